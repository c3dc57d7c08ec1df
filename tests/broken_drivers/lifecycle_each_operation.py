"""Broken after every lifecycle operation, each its own way, so that one certification shows
each persistence rule failing: a reboot answers another ``<uuid>``, a stop/start another
``<sysinfo>`` uuid, a resize another ``<name>`` (``lifecycle_identity``), a rebuild the
domain before it (``ignores_operation``). Right on create."""

from broken_drivers import ignores_operation, lifecycle_identity
from conformance.reference import ReferenceDriver


class EachOperation:
    name = "broken-each-operation"
    protocol = 2
    BY_OPERATION = {"reboot": lifecycle_identity.uuid_reboot,
                    "stop_start": lifecycle_identity.sysinfo_stop_start,
                    "resize": lifecycle_identity.name_resize,
                    "rebuild": ignores_operation.rebuild}

    def build(self, request):
        return self.BY_OPERATION.get(request.operation, ReferenceDriver()).build(request)


driver = EachOperation()
