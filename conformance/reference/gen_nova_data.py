"""Regenerate ``nova_data.py`` from a Nova git checkout (developer tool, not used at run time).

    python -m conformance.reference.gen_nova_data NOVA_GIT_DIR > conformance/reference/nova_data.py

Nova's validator modules and ``nova/objects/fields.py`` are executed with their third-party
imports stubbed out; only literal tables (validator names, regexes, constraints, enum
values) are taken from them. Image property field types are read from the AST of
``nova/objects/image_meta.py``.
"""

from __future__ import annotations

import ast
import pprint
import re
import subprocess
import sys
import types


class _Anything:
    """Stand-in for any object of a stubbed third-party module."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __iter__(self):
        return iter(())


class _Enum:
    def __init__(self, valid_values, **kwargs):
        self.valid_values = tuple(valid_values)


class _AutoTypedField:
    def __init__(self, *args, **kwargs):
        pass


def _stub(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__getattr__ = lambda attr: _Anything()
    for key, value in attrs.items():
        setattr(module, key, value)
    sys.modules[name] = module
    return module


def _exec(repo: str, path: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module  # dataclasses look their module up while executing
    exec(_show(repo, path), module.__dict__)  # noqa: S102 - trusted local checkout
    return module


def _show(repo: str, path: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"HEAD:{path}"],
                          capture_output=True, text=True, check=True).stdout


def _install_stubs(repo: str) -> types.ModuleType:
    ovo = _stub("oslo_versionedobjects")
    ovo.fields = _stub("oslo_versionedobjects.fields", Enum=_Enum,
                       AutoTypedField=_AutoTypedField,
                       BaseEnumField=type("BaseEnumField", (_AutoTypedField,), {}))
    ovo.fields.__getattr__ = lambda attr: type(attr, (_AutoTypedField,), {})
    for name in ("cursive", "cursive.signature_utils", "oslo_serialization",
                 "oslo_serialization.jsonutils", "nova", "nova.exception", "nova.i18n",
                 "nova.network", "nova.network.model", "nova.objects", "os_traits",
                 "os_resource_classes", "oslo_utils", "oslo_utils.strutils", "nova.api",
                 "nova.api.validation"):
        _stub(name)
    sys.modules["nova.i18n"]._ = lambda text: text
    _stub("nova.virt", arch=_exec(repo, "nova/virt/arch.py", "nova.virt.arch"))
    fields = _exec(repo, "nova/objects/fields.py", "nova.objects.fields")
    sys.modules["nova.objects"].fields = fields
    base = _exec(repo, "nova/api/validation/extra_specs/base.py",
                 "nova.api.validation.extra_specs.base")
    _stub("nova.api.validation.extra_specs", base=base)
    return fields


def extra_spec_validators(repo: str) -> list[tuple]:
    """(name, name_regex, constraints) for every registered validator, in registration order."""
    pyproject = _show(repo, "pyproject.toml")
    block = re.search(r'"nova\.api\.extra_spec_validators"\]\n((?:.+\n)+)', pyproject).group(1)
    result = []
    for line in block.strip().splitlines():
        target = line.split("=", 1)[1].strip().strip('"')
        module = _exec(repo, target.replace(".", "/") + ".py", target)
        for validator in module.register():
            value = {k: (list(map(str, v)) if k == "enum" else v)
                     for k, v in validator.value.items() if k in ("enum", "pattern", "min", "max")}
            value["type"] = validator.value["type"].__name__
            result.append((validator.name, validator.name_regex, value))
    return result


def image_properties(repo: str, fields: types.ModuleType) -> tuple[list[tuple], dict]:
    """ImageMetaProps fields (name, field type, enum values, custom coerce) and legacy names."""
    tree = ast.parse(_show(repo, "nova/objects/image_meta.py"))
    props, legacy = [], {}
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "ImageMetaProps")
    for stmt in cls.body:
        target = getattr(stmt.targets[0], "id", None) if isinstance(stmt, ast.Assign) else None
        if target == "fields":
            for key, call in zip(stmt.value.keys, stmt.value.values):
                field = call.func.attr
                auto = getattr(getattr(fields, field, None), "AUTO_TYPE", None)
                enum, custom = (), False
                if isinstance(auto, _Enum):
                    if not auto.valid_values:
                        field = "UnresolvedEnum"  # values come from a stubbed library
                    enum = auto.valid_values
                    custom = any("coerce" in c.__dict__ for c in type(auto).__mro__
                                 if c.__module__ == "nova.objects.fields"
                                 and c.__name__ != "BaseNovaEnum")
                props.append((key.value, field, enum, custom))
        elif target == "_legacy_property_map":
            legacy = {k.value: v.value for k, v in zip(stmt.value.keys, stmt.value.values)}
    return props, legacy


def render(repo: str) -> str:
    fields = _install_stubs(repo)
    validators = extra_spec_validators(repo)
    props, legacy = image_properties(repo, fields)
    commit = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    return "\n".join([
        '"""Tables extracted from OpenStack Nova (generated by gen_nova_data.py; do not edit).',
        "",
        f"Nova commit {commit}: extra-spec validators from",
        "nova/api/validation/extra_specs/*.py (registration order), ImageMetaProps field",
        "types from nova/objects/image_meta.py (declaration order) with enum values from",
        "nova/objects/fields.py.",
        '"""',
        "",
        f"NOVA_COMMIT = {commit!r}",
        "",
        "# (name, name_regex, value constraints)",
        "EXTRA_SPEC_VALIDATORS = " + pprint.pformat(validators, width=100, sort_dicts=True),
        "",
        "# (property, nova field type, enum values, enum has its own coerce())",
        "IMAGE_PROPERTIES = " + pprint.pformat(props, width=100),
        "",
        "LEGACY_IMAGE_PROPERTIES = " + pprint.pformat(legacy, width=100, sort_dicts=False),
    ])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(render(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
