"""Synthetic inputs for tests and benchmarks; development tools, left out of the installer.

Every generator is deterministic for its arguments and seed, and none touches the network:
packets are bytes built with :mod:`struct` and written to a file, with private (RFC 1918) or
documentation (RFC 5737) addresses and locally administered MAC addresses only.

- :mod:`.packets`: Ethernet/IPv4/TCP/UDP frame builders and a TCP sequence-number keeper.
- :mod:`.capture_writer`: the pcap/pcapng container writer.
- :mod:`.known_capture`: a small capture whose flows are known exactly (tests).
- :mod:`.mixed_capture`: a large web-like mixture of a requested size (ingest benchmark).
- :mod:`.scale_capture`: a large capture of many small flows (reliability at scale).
- :mod:`.demo_capture`: the demo capture ``make run`` opens (office traffic and two attacks).
- :mod:`.tables`: flow tables in the app's dataset layouts.
- :mod:`.capture_mutations`, :mod:`.table_mutations`, :mod:`.fuzz_corpus`: the fuzz corpus.

The command lines are ``scripts/make_*.py``.
"""
