"""Nova's API-level validation: flavor extra specs and image property coercion.

Extra specs: ``nova/api/validation/extra_specs/validators.py`` ``validate()`` with the
validators of ``base.py`` (applied when extra specs are set, microversion >= 2.86).
Image properties: ``ImageMetaProps.from_dict`` field coercion as wrapped by
``nova/compute/api.py`` ``_get_image_meta_obj`` ("Invalid image metadata. Error: ...").
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from conformance.contract import Rejected
from conformance.reference import nova_data
from conformance.reference.releases import Model
from conformance.reference.strutils import bool_from_string

# os_traits / os_resource_classes standard names are not extracted: accept any
# upper-case name for them (Nova accepts only the known standard ones).
_GENERIC = [
    ("resources{group}:{resource_class}",
     r"resources(?P<group>([a-zA-Z0-9_-]{1,64})?):(?P<resource_class>[A-Z0-9_]+)", {"type": "int"}),
    ("trait{group}:{trait}",
     r"trait(?P<group>([a-zA-Z0-9_-]{1,64})?):(?P<trait>[A-Z0-9_]+)",
     {"type": "str", "enum": ["required", "forbidden"]}),
]
VALIDATORS: dict[str, tuple[str, dict]] = {}
for _name, _regex, _value in nova_data.EXTRA_SPEC_VALIDATORS + _GENERIC:
    VALIDATORS[_name] = (_regex, _value)
NAMESPACES = {regex.split(":", 1)[0] for regex, _ in VALIDATORS.values() if ":" in regex}


def _invalid(detail: str) -> Rejected:
    return Rejected("InvalidExtraSpec", f"Validation failed; {detail}")


def _check_value(constraints: dict, value: str) -> None:
    kind = constraints["type"]
    if kind == "int":
        try:
            number = int(value)
        except ValueError:
            raise _invalid(f"'{value}' is not a valid integer value.") from None
        if "max" in constraints and constraints["max"] < number:
            raise _invalid(f"'{number}' is greater than the max value of '{constraints['max']}'.")
        if "min" in constraints and constraints["min"] > number:
            raise _invalid(f"'{number}' is less than the min value of '{constraints['min']}'.")
    elif kind == "bool":
        try:
            bool_from_string(value, strict=True)
        except ValueError:
            raise _invalid(f"'{value}' is not a valid boolean-like value.") from None
    elif "pattern" in constraints:
        if not re.fullmatch(constraints["pattern"], value):
            raise _invalid(f"'{value}' is not of the format '{constraints['pattern']}'.")
    elif "enum" in constraints and value not in constraints["enum"]:
        raise _invalid(f"'{value}' is not one of: {', '.join(constraints['enum'])}.")


# The memory encryption models each release knows (releases.py: sev-es-model, sev-snp);
# None: the keys hw:mem_encryption_model / hw_mem_encryption_model do not exist.
MODEL_KEYS = ("hw:mem_encryption_model", "hw_mem_encryption_model")


def encryption_models(release: Model) -> tuple[str, ...] | None:
    if not release.has("sev-es-model"):
        return None
    return ("amd-sev", "amd-sev-es") + (("amd-sev-snp",) if release.has("sev-snp") else ())


def validate_extra_spec(name: str, value: str, release: Model = Model()) -> None:
    """Port of ``validators.validate``: raise InvalidExtraSpec like Nova's API would."""
    if name == MODEL_KEYS[0] and encryption_models(release) is None:
        raise _invalid(f"extra spec '{name}' does not appear to be a valid extra spec.")
    if name == MODEL_KEYS[0]:
        _check_value({"type": "str", "enum": list(encryption_models(release))}, value)
        return
    if name in VALIDATORS:
        _check_value(VALIDATORS[name][1], value)
        return
    for regex, constraints in VALIDATORS.values():
        if re.fullmatch(regex, name):
            _check_value(constraints, value)
            return
    if ":" not in name:
        return
    namespace = name.split(":", 1)[0]
    if any(re.fullmatch(ns, namespace) for ns in NAMESPACES):
        raise _invalid(f"extra spec '{name}' does not appear to be a valid extra spec.")


# nova/api/openstack/compute/schemas/flavors_extraspecs.py (parameter_types.metadata),
# applied at every microversion before the per-key validators.
_BODY_SCHEMA = {
    "type": "object",
    "properties": {"extra_specs": {
        "type": "object",
        "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": ["string", "number"],
                                                            "maxLength": 255}},
        "additionalProperties": False}},
    "required": ["extra_specs"],
    "additionalProperties": False,
}


def _check_body_schema(extra_specs: Mapping[str, str]) -> None:
    """The JSON schema of the extra-specs body, with Nova's error wording (validators.py)."""
    import jsonschema

    body = {"extra_specs": dict(extra_specs)}
    for error in jsonschema.Draft202012Validator(_BODY_SCHEMA).iter_errors(body):
        if error.path:
            raise Rejected("InvalidExtraSpec", f"Invalid input for field/attribute "
                           f"{error.path.pop()}. Value: {error.instance}. {error.message}")
        raise Rejected("InvalidExtraSpec", error.message)


def validate_extra_specs(extra_specs: Mapping[str, str], release: Model = Model()) -> None:
    """Nova's flavor extra-spec API checks: body schema, then each key in request order."""
    _check_body_schema(extra_specs)
    for name, value in extra_specs.items():
        validate_extra_spec(name, value, release)


_FIELDS = {name: (field, enum, custom) for name, field, enum, custom in nova_data.IMAGE_PROPERTIES}


def _coerce(name: str, value: str, release: Model = Model()) -> Any:
    field, enum, custom_coerce = _FIELDS[name]
    if name == MODEL_KEYS[1]:
        enum = encryption_models(release)
    if field == "FlexibleBooleanField":
        return bool_from_string(value)
    if field == "IntegerField":
        return int(value)
    if name == "os_type":  # OSType.coerce lower-cases before the enum check
        value = value.lower()
    elif enum and custom_coerce:
        return value  # canonicalising enums (architecture, hv type, ...): not modelled
    if enum and value not in enum:
        raise ValueError(f"Field value {value} is invalid")
    return value  # strings, UUIDs (warn only), lists (not modelled)


def coerce_image_properties(properties: Mapping[str, str], release: Model = Model()) -> dict[str, Any]:
    """Port of ``ImageMetaProps.from_dict`` for string inputs; InvalidImageProperty on error.

    Legacy names are applied first, then current names in field declaration order
    (so a current name wins, and the first bad field in that order is reported).
    """
    props: dict[str, Any] = {}
    try:
        for legacy, current in nova_data.LEGACY_IMAGE_PROPERTIES.items():
            if legacy in properties:
                props[current] = _coerce(current, properties[legacy])
        for name in _FIELDS:
            if name == MODEL_KEYS[1] and encryption_models(release) is None:
                continue  # not a field of that release's ImageMetaProps: ignored
            if name in properties and name not in ("hw_numa_cpus", "hw_numa_mem", "traits_required"):
                props[name] = _coerce(name, properties[name], release)
    except ValueError as exc:
        raise Rejected("InvalidImageProperty", f"Invalid image metadata. Error: {exc}") from None
    return props
