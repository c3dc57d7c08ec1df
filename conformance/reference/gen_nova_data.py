"""Regenerate nova_data.py from a Nova checkout (developer tool, not used at run time).

Usage: python -m conformance.reference.gen_nova_data [NOVA_GIT_DIR] > conformance/reference/nova_data.py
Nova modules are executed with their third-party imports stubbed out, so only the
literal tables (validator names/regexes/constraints, enum values) are trusted.
"""
import ast
import re
import subprocess
import sys
import types

REPO = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/openstack+nova/repo"
def src(path):
    return subprocess.run(["git", "-C", REPO, "show", f"HEAD:{path}"], capture_output=True, text=True, check=True).stdout

class Dummy:
    def __init__(self, *a, **k): pass
    def __getattr__(self, n): return Dummy()
    def __call__(self, *a, **k): return Dummy()
    def __init_subclass__(cls, **k): pass
    def __iter__(self): return iter(())

def stubmod(name, **attrs):
    m = types.ModuleType(name)
    m.__getattr__ = lambda n: Dummy()
    for k, v in attrs.items(): setattr(m, k, v)
    sys.modules[name] = m
    return m

class Enum:
    def __init__(self, valid_values, **kw): self.valid_values = tuple(valid_values)
class AutoTypedField:
    def __init__(self, *a, **k): pass
class BaseEnumField(AutoTypedField): pass

ovo = stubmod("oslo_versionedobjects")
ovo_fields = stubmod("oslo_versionedobjects.fields", Enum=Enum, AutoTypedField=AutoTypedField, BaseEnumField=BaseEnumField, FieldType=Dummy, Field=Dummy, String=Dummy, Integer=Dummy, Dict=Dummy, List=Dummy, Set=Dummy, Object=Dummy, UUIDField=AutoTypedField, StringField=AutoTypedField)
ovo.fields = ovo_fields
ovo_fields.__getattr__ = lambda n: type(n, (AutoTypedField,), {})
for n in ["cursive", "cursive.signature_utils", "oslo_serialization", "oslo_serialization.jsonutils", "nova", "nova.exception", "nova.i18n", "nova.network", "nova.network.model", "nova.objects", "os_traits", "os_resource_classes", "oslo_utils", "oslo_utils.strutils"]:
    stubmod(n)
sys.modules["nova.i18n"]._ = lambda s: s
arch = types.ModuleType("nova.virt.arch"); exec(src("nova/virt/arch.py"), arch.__dict__); sys.modules["nova.virt.arch"] = arch
stubmod("nova.virt", arch=arch)
fields = types.ModuleType("nova.objects.fields"); fields.__dict__["__name__"] = "nova.objects.fields"
exec(src("nova/objects/fields.py"), fields.__dict__)
sys.modules["nova.objects.fields"] = fields; sys.modules["nova.objects"].fields = fields

# extra spec validators
base = types.ModuleType("nova.api.validation.extra_specs.base")
sys.modules["nova.api"] = stubmod("nova.api"); stubmod("nova.api.validation")
pkg = stubmod("nova.api.validation.extra_specs", base=base)
sys.modules["nova.api.validation.extra_specs.base"] = base
exec(src("nova/api/validation/extra_specs/base.py"), base.__dict__)
setup = src("pyproject.toml")
eps = re.search(r'"nova\.api\.extra_spec_validators"\]\n((?:.+\n)+)', setup).group(1)
validators = []
for line in eps.strip().splitlines():
    name, target = [s.strip().strip('"') for s in line.split("=")]
    modpath = target.replace(".", "/") + ".py"
    mod = types.ModuleType(target)
    try:
        exec(src(modpath), mod.__dict__)
        regs = mod.register()
    except Exception as exc:
        print("SKIP", target, exc, file=sys.stderr); continue
    for v in regs:
        val = {k: (list(x) if isinstance(x, (tuple, list)) else x) for k, x in v.value.items() if k in ("enum", "pattern", "min", "max")}
        val["type"] = v.value["type"].__name__
        if "enum" in val: val["enum"] = [str(x) for x in val["enum"]]
        validators.append({"name": v.name, "name_regex": v.name_regex, "value": val, "module": target})

# image property field types, in declaration order
tree = ast.parse(src("nova/objects/image_meta.py"))
props = []
for node in ast.walk(tree):
    if isinstance(node, ast.ClassDef) and node.name == "ImageMetaProps":
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and getattr(stmt.targets[0], "id", None) == "fields":
                for k, v in zip(stmt.value.keys, stmt.value.values):
                    ftype = v.func.attr
                    entry = {"name": k.value, "field": ftype}
                    cls = getattr(fields, ftype, None)
                    at = getattr(cls, "AUTO_TYPE", None)
                    if isinstance(at, Enum) and at.valid_values:
                        entry["enum"] = list(at.valid_values)
                        entry["custom_coerce"] = any("coerce" in c.__dict__ for c in type(at).__mro__ if c.__module__ == "nova.objects.fields" and c.__name__ != "BaseNovaEnum")
                    elif isinstance(at, Enum):
                        entry["field"] = "UnresolvedEnum"
                    props.append(entry)
            if isinstance(stmt, ast.Assign) and getattr(stmt.targets[0], "id", None) == "_legacy_property_map":
                legacy = {k.value: v.value for k, v in zip(stmt.value.keys, stmt.value.values)}
head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
DATA = {"nova_commit": head, "extra_spec_validators": validators, "image_properties": props, "legacy_image_properties": legacy}

import pprint  # noqa: E402
d = DATA
out = ['"""Tables extracted from OpenStack Nova (generated by gen_nova_data.py; do not edit).', '',
       f'Nova commit {d["nova_commit"]}: extra-spec validators from',
       'nova/api/validation/extra_specs/*.py (registration order), ImageMetaProps field',
       'types from nova/objects/image_meta.py (declaration order) with enum values from',
       'nova/objects/fields.py.', '"""', '',
       f'NOVA_COMMIT = {d["nova_commit"]!r}', '']
vals = [(v["name"], v["name_regex"], v["value"]) for v in d["extra_spec_validators"]]
out.append("# (name, name_regex, value constraints)")
out.append("EXTRA_SPEC_VALIDATORS = " + pprint.pformat(vals, width=100, sort_dicts=True))
out.append("")
props = [(p["name"], p["field"], tuple(p.get("enum", ())), p.get("custom_coerce", False)) for p in d["image_properties"]]
out.append("# (property, nova field type, enum values, enum has its own coerce())")
out.append("IMAGE_PROPERTIES = " + pprint.pformat(props, width=100))
out.append("")
out.append("LEGACY_IMAGE_PROPERTIES = " + pprint.pformat(d["legacy_image_properties"], width=100, sort_dicts=False))
print("\n".join(out))
