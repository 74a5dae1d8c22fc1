"""Bounce Processor: classify email delivery events into soft/hard bounces.

The core (parsing, code registry, classification) needs no Kafka client at
import time::

    from processor import classify
    for record in classify(open("/var/log/mail.log", "rb").read()):
        print(record.verdict, record.reason)
"""

__version__ = "0.1.0"

__all__ = ["__version__", "classify"]


def __getattr__(name: str) -> object:
    # Lazy so that `import processor` stays cheap and Kafka-free.
    if name == "classify":
        from processor.enrich import classify

        return classify
    raise AttributeError(name)
