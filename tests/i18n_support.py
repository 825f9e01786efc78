"""Traditional Chinese checks shared by the page and data tests (docs/I18N.md)."""

from __future__ import annotations

# Simplified-only characters common on our pages. Each is the simplification of a character
# Taiwan writes otherwise and none is itself a Traditional character in use: 余 (a surname),
# 价, 台, 后, 里, 干, 几, 么, 准, 范, 云, 系 and 户 are left out on purpose.
SIMPLIFIED_ONLY = frozenset(
    "话费记录额账设号码这个们时间电询国单务认请应为发关开网经过还数币业条项类结选择页输历线"
    "钟东马亚尔兰罗乌"
)


def demo_data_texts() -> list[str]:
    """Texts the demo switch holds as its users typed them (names, memos, departments):
    shown as they are in every language, so left out of the script check."""
    from telephony.emulator import demo_data, rates

    texts = [a.name for a in demo_data.DEMO_AGENTS] + [a.company for a in demo_data.DEMO_AGENTS]
    texts += [c.name for c in demo_data.DEMO_CUSTOMERS] + [c.memo for c in demo_data.DEMO_CUSTOMERS]
    texts += [text for row in demo_data.DEMO_PHONE_BOOK for text in (row[2], row[3], row[7])]
    texts += list(demo_data.PAY_MEMOS)
    texts += [text for group, memo in rates.DEMO_GROUPS.items() for text in (group, memo[0])]
    return sorted({text for text in texts if text}, key=len, reverse=True)


def simplified_left(text: str, *, data: list[str] = ()) -> list[str]:
    """Snippets of ``text`` around each Simplified-only character, ``data`` left out."""
    for typed in data:
        text = text.replace(typed, " ")
    return [text[max(0, i - 8) : i + 8] for i, char in enumerate(text) if char in SIMPLIFIED_ONLY]
