"""Import/export layouts (django-import-export). Every export passes a queryset already scoped
to the user's subtree; nothing here widens it."""

from import_export import fields, resources

from hardship.models import Union


class UnionResource(resources.ModelResource):
    code = fields.Field(attribute="code", column_name="单位代码")
    name = fields.Field(attribute="name", column_name="名称")
    kind = fields.Field(attribute="get_kind_display", column_name="类型")
    region = fields.Field(attribute="region__code", column_name="行政区划代码")
    region_name = fields.Field(attribute="region__name", column_name="行政区划")
    parent = fields.Field(attribute="parent__code", column_name="上级单位代码")
    parent_name = fields.Field(attribute="parent__name", column_name="上级单位")
    contact_phone = fields.Field(attribute="contact_phone", column_name="联系电话")
    address = fields.Field(attribute="address", column_name="地址")

    class Meta:
        model = Union
        fields = ("code", "name", "kind", "region", "region_name", "parent", "parent_name",
                  "contact_phone", "address")
        export_order = fields
