"""Read a page's form fields the way a browser would submit them (for tests that post whole forms)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Fields(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields = form_id, False, {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "name" not in a:
            if tag == "option" and self.inside and self._select and "selected" in a:
                self.fields[self._select] = a.get("value", "")
            return
        name = a["name"]
        if tag == "input" and a.get("type") == "checkbox":
            if "checked" in a:
                self.fields[name] = a.get("value", "on")
        elif tag == "input" and a.get("type") != "submit":
            self.fields[name] = a.get("value", "")
        elif tag == "textarea":
            self._textarea, self.fields[name] = name, ""
        elif tag == "select":
            self._select = name
            self.fields.setdefault(name, "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """Name → value of every field the form with this id would submit."""
    parser = _Fields(form_id)
    parser.feed(html)
    return dict(parser.fields)
