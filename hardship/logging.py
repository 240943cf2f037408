"""Logs as JSON lines, each tagged with its request's id, with ID numbers and bank card numbers masked.

RequestIdMiddleware gives every request an id (X-Request-ID on the response); RequestIdFilter copies it onto the
records logged while that request runs; PersonalDataFilter masks before any handler formats a record;
JsonLinesFormatter writes one JSON object a line.
"""

import contextvars
import datetime
import json
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# An incoming id is reused (a proxy's, to follow one request across services) only if it is this harmless.
INCOMING_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")

# Digit runs standing alone: an 18-character ID number (17 digits and a digit or X), an old 15-digit one, and
# bank card numbers of 16 to 19 digits, optionally written in groups of four.
PERSONAL_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?)(?![0-9A-Za-z])"
)
# An ID number's keyed digest as PostgreSQL quotes a bytea (a unique violation's "Key (id_number_digest)=(\x…)"):
# not the number, but it names the person to whoever holds the digest key.
DIGEST = re.compile(r"\\x[0-9a-f]{64}")


def mask(text: str) -> str:
    return PERSONAL_NUMBER.sub(lambda match: _masked(match.group()), DIGEST.sub(r"\\x…", text))


def _masked(number: str) -> str:
    # The last four are kept so an operator can tell two records apart without learning the number.
    return "*" * (len(number) - 4) + number[-4:]


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if INCOMING_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a 4xx/5xx response after the middleware has returned, with the request attached.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class PersonalDataFilter(logging.Filter):
    """Masks ID and card numbers in the message and its arguments, and in a logged exception's text.

    Attached to handlers (a filter on a logger does not see records propagated from its children)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(str(record.msg))
        if record.args:
            record.args = self._masked_args(record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True

    def _masked_args(self, args):
        if isinstance(args, dict):
            return {key: self._masked_value(value) for key, value in args.items()}
        return tuple(self._masked_value(value) for value in args)

    @staticmethod
    def _masked_value(value):
        if isinstance(value, int | float) and not isinstance(value, bool) and not PERSONAL_NUMBER.fullmatch(str(value)):
            return value  # a number stays a number for %d
        # Text, and objects (exceptions, requests, models) turned into their text here, once, so that it is masked.
        return mask(str(value))


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if getattr(record, "status_code", None):
            entry["status"] = record.status_code
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)
