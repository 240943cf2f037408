"""Building the regional union tree from the administrative divisions."""

from django.db import transaction

from hardship.models import PATH_SEPARATOR, Region, Union

NATIONAL_CODE = "100000"
NATIONAL_NAME = "中华全国总工会"
KIND_BY_LEVEL = {
    Region.Level.PROVINCE: Union.Kind.PROVINCE,
    Region.Level.PREFECTURE: Union.Kind.CITY,
    Region.Level.COUNTY: Union.Kind.COUNTY,
}


@transaction.atomic
def create_regional_unions() -> int:
    """One local federation of trade unions per region, under the national union.

    Idempotent: existing units (matched by code) are left as they are. Returns how many were made.
    """
    national, _ = Union.objects.get_or_create(
        code=NATIONAL_CODE, defaults={"name": NATIONAL_NAME, "kind": Union.Kind.NATIONAL},
    )
    paths = dict(Union.objects.values_list("code", "path"))
    new_unions = []
    level_order = list(KIND_BY_LEVEL)
    for region in sorted(Region.objects.all(), key=lambda r: (level_order.index(r.level), r.code)):
        if region.code in paths:
            continue
        parent_code = region.parent_id or NATIONAL_CODE
        parent_path = paths[parent_code]
        path = f"{parent_path}{region.code}{PATH_SEPARATOR}"
        paths[region.code] = path
        new_unions.append(Union(
            code=region.code, name=f"{region.name}总工会", kind=KIND_BY_LEVEL[region.level], region=region,
            path=path, depth=path.count(PATH_SEPARATOR) - 2,
        ))
    parents = dict(Union.objects.values_list("code", "pk"))
    for level_kind in (Union.Kind.PROVINCE, Union.Kind.CITY, Union.Kind.COUNTY):
        batch = [union for union in new_unions if union.kind == level_kind]
        for union in batch:
            union.parent_id = parents[union.path.split(PATH_SEPARATOR)[-3]]
        Union.objects.bulk_create(batch, batch_size=1000)
        parents.update((union.code, union.pk) for union in batch)
    return len(new_unions)
