#!/usr/bin/env python3
"""Regenerate the chat template goldens with Python Jinja2.

Renders every testdata/templates/*/tokenizer_config.json with every
testdata/cases/*.json the way transformers' apply_chat_template does
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, tojson with
ensure_ascii=False, raise_exception, strftime_now, loop controls and the
generation block) and writes testdata/golden/<template>/<case>.txt, or
<case>.err when the template raises.

Run from engine/chat:  python3 testdata/gen_goldens.py
Needs jinja2 (Debian: apt-get install -y python3-jinja2).
"""
import datetime
import json
import os
import re
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
# Fixed clock shared with golden_test.go (goldenNow).
NOW = datetime.datetime(2024, 9, 26, 10, 30, 0)


class Generation(Extension):
    """{% generation %} marks assistant text for masks; it renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        next(parser.stream)
        return parser.parse_statements(["name:endgeneration"], drop_needle=True)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                      separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return NOW.strftime(fmt)


def environment():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True,
        extensions=[Generation, "jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


# Templates that test message content for None; the others get "" for an
# assistant turn that only calls tools (content null), as template.go does.
TESTS_NONE = re.compile(r"""[.'"]content['"]?\]? is (not )?none""")


def null_content(messages, keep_none):
    if keep_none:
        return messages
    return [dict(m, content="") if m.get("content") is None and m.get("tool_calls") else m for m in messages]


def with_thinking(messages):
    # template.go hands an assistant's reasoning_content to templates as
    # thinking too (gpt-oss's name for it).
    return [dict(m, thinking=m["reasoning_content"]) if m.get("reasoning_content") else m for m in messages]


def token(t):
    return t.get("content") if isinstance(t, dict) else t


def main():
    env = environment()
    tdir = os.path.join(HERE, "templates")
    cdir = os.path.join(HERE, "cases")
    cases = sorted(f[:-5] for f in os.listdir(cdir) if f.endswith(".json"))
    for name in sorted(os.listdir(tdir)):
        path = os.path.join(tdir, name, "tokenizer_config.json")
        if not os.path.exists(path):
            continue
        cfg = json.load(open(path, encoding="utf-8"))
        tmpl = env.from_string(cfg["chat_template"])
        out = os.path.join(HERE, "golden", name)
        os.makedirs(out, exist_ok=True)
        for case in cases:
            c = json.load(open(os.path.join(cdir, case + ".json"), encoding="utf-8"))
            kwargs = dict(c.get("vars", {}))
            for key in ("bos_token", "eos_token"):
                if token(cfg.get(key)):
                    kwargs[key] = token(cfg[key])
            for stale in (".txt", ".err"):
                if os.path.exists(os.path.join(out, case + stale)):
                    os.remove(os.path.join(out, case + stale))
            try:
                msgs = with_thinking(null_content(c["messages"], TESTS_NONE.search(cfg["chat_template"]) is not None))
                text = tmpl.render(messages=msgs, tools=c.get("tools"),
                                   documents=None,
                                   add_generation_prompt=c["add_generation_prompt"],
                                   **kwargs)
                ext, body = ".txt", text
            except Exception as e:  # the Go side must fail too
                ext, body = ".err", "%s: %s\n" % (type(e).__name__, e)
            with open(os.path.join(out, case + ext), "w", encoding="utf-8", newline="") as f:
                f.write(body)
    print("goldens written for %d cases" % len(cases), file=sys.stderr)


if __name__ == "__main__":
    main()
