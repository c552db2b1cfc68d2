"""Independent reader (and writer) of the Confluent wire format, with Confluent's own Python client.

Reads JSON lines on stdin and answers one JSON line each on stdout:

  {"registry": url, "format": "avro|jsonschema|protobuf", "bytes": "<base64 record value>"}
    -> {"schema_id": n, "value": <decoded>}          (or {"error": "..."})
  (optional: "topic": t, "key": true to decode a record key: they only name the subject the
  deserializers pass to the registry; the writer's schema comes from the id in the bytes)

  {"op": "encode", "registry": url, "format": "avro|jsonschema", "topic": t, "schema": "<schema text>", "value": v}
  {"op": "encode", "registry": url, "format": "protobuf", "topic": t, "schema_id": n, "message": "pkg.Msg", "value": v}
    -> {"bytes": "<base64>", "schema_id": n}         (registered under <topic>-value, as the serializers do)

Decoding uses AvroDeserializer, JSONDeserializer and ProtobufDeserializer unchanged. Protobuf needs a
message class: it is built at run time from the writer's schema (fetched with ?format=serialized,
references included) and the record's message indexes, and the message is given as
json_format.MessageToDict(preserving_proto_field_name=True). Avro values that JSON cannot hold are
shown as: bytes and fixed -> a string of code points 0-255 (Avro's JSON encoding), decimal -> its
string, dates and times -> ISO 8601, uuid -> its string.
"""

import base64
import datetime
import decimal
import io
import json
import sys
import uuid

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.common.serde import SchemaId
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf import (
    any_pb2,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)

WELL_KNOWN = {
    m.DESCRIPTOR.name: m.DESCRIPTOR.serialized_pb
    for m in (any_pb2, duration_pb2, empty_pb2, field_mask_pb2, struct_pb2, timestamp_pb2, wrappers_pb2)
}

# One client per registry for the whole run, so its caches work as they do in an application.
clients = {}


def client(url):
    if url not in clients:
        clients[url] = SchemaRegistryClient({"url": url})
    return clients[url]


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def add_file(sr, pool, name, schema_str, references, seen):
    """Adds a serialized FileDescriptorProto (and, first, what it imports) to the pool; returns it."""
    for ref in references or []:
        if ref.name in seen:
            continue
        seen.add(ref.name)
        registered = sr.get_version(ref.subject, ref.version, True, "serialized")
        add_file(sr, pool, ref.name, registered.schema.schema_str, registered.schema.references, seen)
    proto = descriptor_pb2.FileDescriptorProto()
    proto.ParseFromString(base64.standard_b64decode(schema_str))
    proto.name = name
    for dep in proto.dependency:
        if dep in WELL_KNOWN and dep not in seen:
            seen.add(dep)
            pool.AddSerializedFile(WELL_KNOWN[dep])
    pool.Add(proto)
    return proto


def message_class(sr, schema_id, indexes=None, full_name=None):
    """The class of the message that Confluent's message indexes (or a full name) pick in a schema."""
    schema = sr.get_schema(schema_id, fmt="serialized")
    pool = descriptor_pool.DescriptorPool()
    proto = add_file(sr, pool, "schema-%d.proto" % schema_id, schema.schema_str, schema.references, set())
    if not full_name:
        path = list(indexes or [0])
        message = proto.message_type[path[0]]
        names = [message.name]
        for i in path[1:]:
            message = message.nested_type[i]
            names.append(message.name)
        full_name = ".".join(([proto.package] if proto.package else []) + names)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


def decode(request):
    sr = client(request["registry"])
    data = base64.b64decode(request["bytes"])
    fmt = request["format"]
    field = MessageField.KEY if request.get("key") else MessageField.VALUE
    ctx = SerializationContext(request.get("topic", "wire-decode"), field)
    if fmt == "avro":
        schema_id = SchemaId("AVRO")
        schema_id.from_bytes(io.BytesIO(data))
        value = AvroDeserializer(sr)(data, ctx)
    elif fmt == "jsonschema":
        schema_id = SchemaId("JSON")
        schema_id.from_bytes(io.BytesIO(data))
        value = JSONDeserializer(None, schema_registry_client=sr)(data, ctx)
    elif fmt == "protobuf":
        schema_id = SchemaId("PROTOBUF")
        schema_id.from_bytes(io.BytesIO(data))
        cls = message_class(sr, schema_id.id, schema_id.message_indexes)
        message = ProtobufDeserializer(cls, {"use.deprecated.format": False}, sr)(data, ctx)
        value = json_format.MessageToDict(message, preserving_proto_field_name=True)
    else:
        raise ValueError("unknown format %r" % fmt)
    return {"schema_id": schema_id.id, "value": jsonable(value)}


def encode(request):
    sr = client(request["registry"])
    fmt = request["format"]
    ctx = SerializationContext(request["topic"], MessageField.VALUE)
    if fmt == "avro":
        data = AvroSerializer(sr, request["schema"])(request["value"], ctx)
    elif fmt == "jsonschema":
        data = JSONSerializer(request["schema"], sr)(request["value"], ctx)
    elif fmt == "protobuf":
        cls = message_class(sr, request["schema_id"], full_name=request["message"])
        message = json_format.ParseDict(request["value"], cls())
        data = ProtobufSerializer(cls, sr, {"use.deprecated.format": False})(message, ctx)
    else:
        raise ValueError("unknown format %r" % fmt)
    schema_id = SchemaId(fmt.upper() if fmt != "jsonschema" else "JSON")
    schema_id.from_bytes(io.BytesIO(data))
    return {"bytes": base64.b64encode(data).decode("ascii"), "schema_id": schema_id.id}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            answer = encode(request) if request.get("op") == "encode" else decode(request)
        except Exception as error:  # every failure is an answer line, never a crash
            answer = {"error": "%s: %s" % (type(error).__name__, error)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
