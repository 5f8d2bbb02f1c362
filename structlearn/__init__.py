"""structlearn: which information-theoretic principle makes a network learn which structure?

Subpackages follow the data flow: ``data`` -> ``models`` -> ``objectives`` -> ``train`` ->
``analysis`` -> report. ``estimators`` holds entropy and mutual-information estimators (nats).
"""

__version__ = "0.1.0"
