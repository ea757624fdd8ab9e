"""Words for the evidence codes (`reason`) of `web.https.no_redirect` and `web.hsts.missing`."""

from __future__ import annotations

from exposure.contract import CodeText
from exposure.text import Text

_REDIRECT = Text(
    nl="Laat http://uwdomein.nl/ direct (301) doorsturen naar https://uwdomein.nl/, op dezelfde "
    "naam; een doorsturing naar www of een andere naam kan daarna, binnen https.",
    en="Have http://yourdomain.nl/ redirect (301) straight to https://yourdomain.nl/, on the "
    "same name; any redirect to www or another name can come after that, within https.",
)
_HSTS = Text(
    nl="Laat de website de kop 'Strict-Transport-Security: max-age=31536000' meesturen.",
    en="Have the website send the header 'Strict-Transport-Security: max-age=31536000'.",
)

WEB_CODES: tuple[CodeText, ...] = (
    CodeText(
        "no_redirect",
        Text(
            nl="Wie http:// gebruikt, blijft op de onbeveiligde website.",
            en="Visitors who use http:// stay on the unprotected website.",
        ),
        _REDIRECT,
    ),
    CodeText(
        "redirect_to_http",
        Text(
            nl="De website stuurt eerst door naar een ander onbeveiligd (http://) adres.",
            en="The website first redirects to another unprotected (http://) address.",
        ),
        _REDIRECT,
    ),
    CodeText(
        "redirect_to_other_host",
        Text(
            nl="De website stuurt eerst door naar een andere naam in plaats van naar de "
            "beveiligde versie van dezelfde naam.",
            en="The website first redirects to another name instead of the secure version of "
            "the same name.",
        ),
        _REDIRECT,
    ),
    CodeText(
        "bad_location",
        Text(
            nl="De doorsturing wijst naar een ongeldig adres.",
            en="The redirect points to an invalid address.",
        ),
        _REDIRECT,
    ),
    CodeText(
        "no_header",
        Text(
            nl="De website vraagt browsers niet om voortaan altijd https te gebruiken.",
            en="The website does not ask browsers to always use https from now on.",
        ),
        _HSTS,
        "RFC 6797",
    ),
    CodeText(
        "short_max_age",
        Text(
            nl="De website vraagt dat wel, maar voor korter dan een jaar.",
            en="The website asks for it, but for less than a year.",
        ),
        _HSTS,
        "RFC 6797 section 6.1.1",
    ),
    CodeText(
        "invalid_header",
        Text(
            nl="De HSTS-kop is ongeldig, zodat browsers hem negeren.",
            en="The HSTS header is invalid, so browsers ignore it.",
        ),
        _HSTS,
        "RFC 6797 section 6.1",
    ),
)
