"""The soak with faults: Magento orders into a POS sandbox while both sides misbehave and the m2pos
process is killed at random moments; afterwards every order is checked, one by one.

``workload`` plans what the shop does, ``processes`` runs m2pos and the Magento invoice gate,
``run`` drives a run, ``checks`` judges it. ``python -m tests.soak`` (``make soak``) is the long run;
``test_soak.py`` is the short one in ``make test``; ``tests/pos_onsite/test_crash_fault_run.py`` is
OnSite's deeper run (reservations, deposits, counter conversions) on the same machinery.
"""
