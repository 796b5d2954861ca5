"""The pages a kiosk gets when its token does not open the page it asked for.

A browser that opened ``/wall`` with the tablet's token got the guard's JSON refusal: a line
of raw text on a wall screen, saying nothing of what to open instead. It gets this page: what
happened, in both languages (the guard knows no city language), and the way to the token's
own page.
"""

from __future__ import annotations

import html

from layouts.i18n import t


def both(key: str) -> str:
    """A word in Indonesian and English at once, escaped for HTML: the login page and this
    one know no one's language yet, so neither is assumed."""
    return html.escape(f"{t(key, 'id')} / {t(key, 'en')}", quote=True)


def in_turn(key: str) -> tuple[str, str]:
    """A word in Indonesian, then in English, each escaped for HTML: a page with room for both
    says them one under the other, not run together in one paragraph."""
    return html.escape(t(key, "id"), quote=True), html.escape(t(key, "en"), quote=True)


def not_this_page_html(own: str) -> str:
    """The refusal, with a link to ``own``, the page the token is for (a path of this site)."""
    link = html.escape(own, quote=True)
    return _page("token_other_page_title", "token_other_page", link, link)


def address_not_valid_html(login: str) -> str:
    """For a page asked for with a token, or a kiosk's cookie, that the server does not know
    (revoked, or made by a server set up anew): a kiosk or the mayor's tablet went to the
    login form, where nobody in front of it can sign in. It says what happened, and links the
    login (``login``, a path of this site) for staff who can."""
    return _page("address_not_valid_title", "address_not_valid", html.escape(login, quote=True), both("console_sign_in"))


def _page(title_key: str, body_key: str, link: str, text: str) -> str:
    """The page in both languages, each with its own heading and paragraph, and the link as a
    button a finger can hit (a 28 px line of text was the tablet's only way on)."""
    (title_id, title_en), (body_id, body_en) = in_turn(title_key), in_turn(body_key)
    return _PAGE.format(
        title=both(title_key), title_id=title_id, title_en=title_en, body_id=body_id, body_en=body_en, link=link, text=text
    )


_PAGE = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>citywall – {title}</title>
<style>
  body {{ background: #0b1220; color: #e6edf7; font: 1.5rem/1.5 system-ui, sans-serif; margin: 0;
         min-height: 100vh; display: flex; align-items: center; justify-content: center; }}
  main {{ max-width: 48rem; padding: 2rem; }}
  h1, h2 {{ font-size: 2rem; line-height: 1.25; margin: 0 0 0.5rem; }}
  section[lang="en"] {{ color: #aab6c8; margin-top: 2rem; }}
  section[lang="en"] h2 {{ font-size: 1.6rem; }}
  a {{ display: inline-block; min-height: 48px; margin-top: 1.5rem; padding: 0.5rem 1.5rem; box-sizing: border-box;
       border: 2px solid #7cc4ff; border-radius: 8px; color: #7cc4ff; text-decoration: none; font-weight: 700; }}
</style>
</head>
<body>
<main data-page="token-refused">
  <section lang="id"><h1>{title_id}</h1><p>{body_id}</p></section>
  <section lang="en"><h2>{title_en}</h2><p>{body_en}</p></section>
  <p><a href="{link}">{text}</a></p>
</main>
</body>
</html>
"""
