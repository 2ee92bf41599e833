"""Independent reader for the adversarial value test: Python's csv and json modules.

Reads a JSON list of specs on stdin, one per file:
  {"kind": "csv", "path", "delimiter", "quotechar" (null: QUOTE_NONE), "escapechar" (or null),
   "doublequote", "json_columns": [indexes whose text is JSON]}
  {"kind": "json", "path"}  (newline-delimited JSON objects)
Prints, per spec, the records (CSV: lists of fields; JSON: objects) or {"error": message}. JSON
values keep their exact type through the pipe: integers as {"$int": digits}, floats as
{"$float": repr(x)}, so 2**63-1 and -0.0 survive.
"""
import csv
import json
import sys


def tag(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"$int": str(value)}
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, list):
        return [tag(item) for item in value]
    return {key: tag(item) for key, item in value.items()}


def read_csv(spec):
    kwargs = {"delimiter": spec["delimiter"], "strict": True}
    if spec["quotechar"] is None:
        kwargs["quoting"] = csv.QUOTE_NONE
    else:
        kwargs["quotechar"] = spec["quotechar"]
        kwargs["doublequote"] = spec["doublequote"]
    if spec["escapechar"] is not None:
        kwargs["escapechar"] = spec["escapechar"]
    with open(spec["path"], encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, **kwargs))
    columns = set(spec.get("json_columns", []))
    out = []
    for number, row in enumerate(rows):
        fields = []
        for index, text in enumerate(row):
            # The header, and fields that are not JSON text (null markers), stay text.
            if number > 0 and index in columns and text[:1] in ("[", "{"):
                fields.append({"$json": tag(json.loads(text))})
            else:
                fields.append(text)
        out.append(fields)
    return out


def read_json(spec):
    with open(spec["path"], encoding="utf-8") as f:
        return [tag(json.loads(line)) for line in f.read().split("\n") if line != ""]


def read(spec):
    try:
        return read_csv(spec) if spec["kind"] == "csv" else read_json(spec)
    except Exception as error:  # reported to the test, which fails with the message
        return {"error": f"{type(error).__name__}: {error}"}


json.dump([read(spec) for spec in json.load(sys.stdin)], sys.stdout, ensure_ascii=False)
