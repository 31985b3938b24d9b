"""Reference renderer for the chat package's tests: renders chat templates with Python's Jinja2
in the environment Hugging Face transformers' apply_chat_template uses (a sandboxed environment
with trim_blocks and lstrip_blocks, the loopcontrols extension, a tojson filter that keeps
non-ASCII text, and the raise_exception and strftime_now globals).

    python3 render.py < {"cases": [{"template": "...", "context": {...}}]}

prints [{"text": "..."} | {"error": "..."}], one per case, in order.
"""
import json
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    env = environment()
    req = json.load(sys.stdin)
    out = []
    for case in req["cases"]:
        try:
            out.append({"text": env.from_string(case["template"]).render(**case["context"])})
        except Exception as e:  # every failure is a result to compare, not a crash
            out.append({"error": "%s: %s" % (type(e).__name__, e)})
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
