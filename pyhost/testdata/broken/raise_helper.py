import json  # noqa: F401  (the standard library is never watched)

undefined_name
