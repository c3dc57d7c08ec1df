"""``conformance certify``: one run, any number of hosts (one host is a fleet of one).

A certification is a :class:`~conformance.run.certify.Run`: it owns the stop signals, the
subreaper, the child processes and what they leave (orphans are killed in one place), the
temp dirs, the host list and the reports. Every host goes the same way, in a thread of its
own; the steps, one module each:

- :mod:`~conformance.run.command`: the command line -> hosts, settings, selection, output dir
- :mod:`~conformance.run.hosts`: ``--host [NAME=]URI`` / ``--libvirt-uri`` -> labelled hosts
- :mod:`~conformance.run.shard`: what each host certifies (every case, or ``--shard``)
- :mod:`~conformance.run.certify`: the run: hosts side by side, reports, cleanup
- :mod:`~conformance.run.one_host`: a host: reachable? prepared, pytest child, verdicts, reports
- :mod:`~conformance.run.reach`: whether a host's libvirt answers; the reason that blames it
- :mod:`~conformance.run.prepare`: accelerator, the shared guest image, the host's facts
- :mod:`~conformance.run.child`: the pytest child session of a host
- :mod:`~conformance.run.results`: what the child streamed; why it cannot back a verdict
- :mod:`~conformance.run.rerun`: ``--rerun-failures``: failed cases run again, the ``flaky`` verdict
- :mod:`~conformance.run.host_report`: per-case verdicts and a host's report
- :mod:`~conformance.run.reports`: writing a host's and a fleet's four files (also ``merge``)
- :mod:`~conformance.run.terminal`: what the run prints
- :mod:`~conformance.run.leftovers`: removing what dead runs left on hosts (after a stop,
  ``conformance cleanup``)
"""
