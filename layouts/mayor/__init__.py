"""The mayor's tablet (``/tablet``): today's headlines, then the city's pillars, each opening to its KPIs.

The page is registered by ``layouts.pages.tablet``; its parts live here, one concern a module:

- ``summaries``: the picture reduced to plain data (headlines, pillars, trend spans);
- ``figures``: how values, targets, changes and chart axes read, in the city's language;
- ``trends``: one KPI's trend chart (drawn by ``layouts.charts``) and the text around it;
- ``kpis`` and ``headlines``: the pieces of the page built from the summaries;
- ``page``: the live skeleton and the printable summary (the PDF), from the same pieces;
- ``callbacks``: what fills the skeleton and keeps it current; the browser's share
  (opening a pillar, switching the span) is ``assets/tablet.js``.

Why it is built the way it is:

- The skeleton is static. The four headline tiles, one card and one KPI section per pillar
  of the city's config (3 to 8, its own ids, names and icons) exist from the first render;
  callbacks fill them and later send only the parts whose content changed (a digest per
  part, as the wall panels do). Nothing is remounted when the city moves, so an open pillar
  stays open and nothing jumps under a finger.
- Trends are small SVG images, not plotly graphs (see ``layouts.charts``). Every number a
  chart carries (first and last value, low and high, target, the times at the edges) is also
  written as text next to it, so nothing is only on hover, and ``pdftotext`` reads it.
- All three trend spans (day, week, month) arrive together and CSS shows the one the toggle
  picks: the toggle answers at once, offline too, and the print view shows all three.
- Opening a pillar is a client-side class change: the section with its KPIs appears right
  under the row of the card that was tapped (CSS ``order`` per grid width), so it opens
  where the finger is, in portrait, landscape and on a phone.
- The same render functions build the live page and the printable summary, so the PDF
  always says what the tablet says.
"""
