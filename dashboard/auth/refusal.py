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


def not_this_page_html(own: str) -> str:
    """The refusal, with a link to ``own``, the page the token is for (a path of this site)."""
    link = html.escape(own, quote=True)
    return _PAGE.format(title=both("token_other_page_title"), body=both("token_other_page"), link=link, text=link)


def address_not_valid_html(login: str) -> str:
    """For a page asked for with a token, or a kiosk's cookie, that the server does not know
    (revoked, or made by a server set up anew): a kiosk or the mayor's tablet went to the
    login form, where nobody in front of it can sign in. It says what happened, and links the
    login (``login``, a path of this site) for staff who can."""
    link = html.escape(login, quote=True)
    title, body = both("address_not_valid_title"), both("address_not_valid")
    return _PAGE.format(title=title, body=body, link=link, text=both("console_sign_in"))


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
  a {{ color: #7cc4ff; }}
</style>
</head>
<body>
<main data-page="token-refused">
  <h1>{title}</h1>
  <p>{body}</p>
  <p><a href="{link}">{text}</a></p>
</main>
</body>
</html>
"""
