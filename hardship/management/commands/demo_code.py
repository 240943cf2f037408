"""The current two-step code of a demo account (hardship.demo.DEMO_TOTP_KEY): `./dev manage demo_code admin`."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from hardship.demo import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the current two-step verification code of a demo account."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        device = TOTPDevice.objects.filter(user__username=username, key=DEMO_TOTP_KEY, confirmed=True).first()
        if device is None:
            raise CommandError(_("%(username)s 不是带演示验证器的演示账号。") % {"username": username})
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
