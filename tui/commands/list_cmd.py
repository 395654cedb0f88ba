"""`dltui list`: the presets, grouped by topic, with their one-line titles."""

from __future__ import annotations

TOPIC_TITLES = {"lecture": "From the lecture", "playground": "TensorFlow Playground data sets",
                "hw01": "HW1: COVID-19 positive rate (needs --data)", "template": "Templates for your own data"}


def add_parser(sub) -> None:
    sp = sub.add_parser("list", help="list the presets", description="List the shipped presets by topic.")
    sp.add_argument("--paths", action="store_true", help="show each preset's file")
    sp.set_defaults(run=run)


def preset_index() -> list[dict]:
    """Every shipped preset with its topic, order and title; presets that fail to load are reported."""
    from dltui.core.config.spec import SpecError, load_preset, shipped_presets

    out = []
    for name, path in shipped_presets().items():
        try:
            a = load_preset(path).values["about"]
            out.append({"name": name, "path": str(path), "topic": a["topic"], "order": a["order"],
                        "title": a["title"]})
        except SpecError as e:
            out.append({"name": name, "path": str(path), "topic": "broken", "order": 0, "title": str(e)})
    return out


def run(args) -> int:
    items = preset_index()
    topics = list(TOPIC_TITLES) + sorted({i["topic"] for i in items} - set(TOPIC_TITLES))
    width = max((len(i["name"]) for i in items), default=10) + 2
    for topic in topics:
        group = sorted((i for i in items if i["topic"] == topic), key=lambda i: (i["order"], i["name"]))
        if not group:
            continue
        print(TOPIC_TITLES.get(topic, topic))
        for i in group:
            print(f"  {i['name']:<{width}}{i['title']}" + (f"  ({i['path']})" if args.paths else ""))
        print()
    print("Train one: dltui train NAME   ·   open it in the app: dltui NAME   ·   your own: dltui train FILE.toml")
    return 0
