"""The channels API's output schemas are built from their sources' types (one helper, no repeated field lists)
and describe exactly what the API showed before the fold."""

from marshmallow import fields

from registry.channels.api import ChannelOut, EmailOut, InboxOut, ReadOut


def shape(schema):
    return {name: (type(f).__name__, f.allow_none) for name, f in schema().fields.items()}


def test_the_output_schemas_keep_their_fields_types_and_nullability():
    assert shape(ChannelOut) == {
        "id": ("Integer", False), "kind": ("String", False), "kind_name": ("String", False),
        "label": ("String", False), "address": ("String", False), "has_secret": ("Boolean", False),
        "user_id": ("Integer", True), "region_code": ("String", True), "include_subregions": ("Boolean", False),
        "is_active": ("Boolean", False)}
    assert shape(InboxOut) == {
        "id": ("Integer", False), "reminder_id": ("Integer", True), "subject": ("String", False),
        "body_text": ("String", False), "created_at": ("AwareDateTime", False), "read_at": ("AwareDateTime", True)}
    assert shape(ReadOut) == {"marked": ("Integer", False), "unread": ("Integer", False)}
    assert set(shape(EmailOut)) == {"enabled", "has_address", "address"}
    assert ChannelOut().fields["address"].metadata["description"] == "仅显示末四位"
    assert ChannelOut.__name__ == "ChannelOut" and ChannelOut.__doc__.startswith("A channel")
    assert isinstance(InboxOut().fields["created_at"], fields.AwareDateTime)
