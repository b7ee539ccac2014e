"""Running specs: the runner plans and launches worker processes, the worker runs one mode per job.

``runner`` (plans, inputs, records), ``launch`` (worker processes), ``worker`` (the process entry),
``modes`` (the registry of worker modes), ``training`` (the train and probe modes), ``records``
(the typed job, mode results and run record), ``events`` (worker -> runner progress), ``faults``
(test-only fault injection).
"""
