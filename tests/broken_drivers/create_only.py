"""Not broken: the reference's behaviour behind an object that declares no ``protocol``
(protocol 1, a driver written before lifecycle requests). The control of a protocol-1
``module:attr`` driver: certified on create only."""

from broken_drivers._base import Broken

driver = Broken("create_only")
