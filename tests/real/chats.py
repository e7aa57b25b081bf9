"""Real-looking chat records for the real-model tests."""

import json

CHATS = [
    ("Name a fruit. Reply with just the answer.", "Apple"),
    ("Give me a colour. Reply with just the answer.", "Blue"),
    ("What is the opposite of hot? Reply with just the answer.", "Cold"),
    ("Pick a vehicle. Reply with just the answer.", "Bicycle"),
    ("How many days are in a week? Reply with just the answer.", "7"),
    ("Can you name a bird? Reply with just the answer.", "Sparrow"),
    ("Tell me a sport. Reply with just the answer.", "Tennis"),
    ("Name a country. Reply with just the answer.", "Japan"),
]


def chat_records():
    return [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in CHATS]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
