"""Plain words for every code the security.txt check can put in a finding's evidence.

Each code has a sentence a shop owner understands (what is wrong, and why it matters where that
is not obvious) and a one-line fix, in Dutch and English, plus the RFC section for the IT
supplier. The codes are the Digital Trust Center's (`sectxt`) where they overlap, so the words
here may be compared with what internet.nl shows for the same file.

Kinds:
- `error`, `recommendation`, `notification`: what the validator reports about a file;
- `missing`: why there is no usable security.txt (the `reason` of `securitytxt.missing`);
- `hint`: something found next to a missing file (an old location, plain http).

This is data. The check publishes it through its `CheckMeta.codes`, so that reports find the
words through the registry without importing the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from exposure.contract import CodeText
from exposure.text import Text


class Kind(StrEnum):
    ERROR = "error"
    RECOMMENDATION = "recommendation"
    NOTIFICATION = "notification"
    MISSING = "missing"
    HINT = "hint"


@dataclass(frozen=True, slots=True)
class Message:
    code: str
    kind: Kind
    text: Text
    fix: Text
    rfc: str = ""  # where the rule comes from, for the IT supplier

    def code_text(self) -> CodeText:
        return CodeText(self.code, self.text, self.fix, self.rfc)


_RESIGN = Text(
    nl="Onderteken het bestand opnieuw met 'gpg --clearsign' en zet het resultaat ongewijzigd "
    "online.",
    en="Sign the file again with 'gpg --clearsign' and publish the result unchanged.",
)
_SERVE_AS_TEXT = Text(
    nl="Laat de server het bestand versturen als 'text/plain; charset=utf-8' (uw websitebouwer "
    "weet hoe).",
    en="Have the server send the file as 'text/plain; charset=utf-8' (your web developer knows "
    "how).",
)
_PUBLISH = Text(
    nl="Zet een security.txt op https://uwdomein.nl/.well-known/security.txt, met minstens "
    "'Contact' en 'Expires' (zie securitytxt.org of het Digital Trust Center).",
    en="Publish a security.txt at https://yourdomain.nl/.well-known/security.txt with at least "
    "'Contact' and 'Expires' (see securitytxt.org or the Digital Trust Center).",
)


def _m(code: str, kind: Kind, nl: str, en: str, fix_nl: str, fix_en: str, rfc: str = "") -> Message:
    return Message(code, kind, Text(nl=nl, en=en), Text(nl=fix_nl, en=fix_en), rfc)


def _mf(code: str, kind: Kind, nl: str, en: str, fix: Text, rfc: str = "") -> Message:
    return Message(code, kind, Text(nl=nl, en=en), fix, rfc)


E, R, N, MISSING, HINT = Kind.ERROR, Kind.RECOMMENDATION, Kind.NOTIFICATION, Kind.MISSING, Kind.HINT

MESSAGES: tuple[Message, ...] = (
    # --- errors: the file breaks a MUST of RFC 9116 -----------------------------------------------
    _m(
        "no_contact",
        E,
        "In uw security.txt staat geen 'Contact'-regel. Zonder contactadres weet niemand hoe "
        "hij u kan waarschuwen.",
        "Your security.txt has no 'Contact' line. Without a contact address nobody knows how "
        "to warn you.",
        "Zet er een regel in zoals 'Contact: mailto:security@uwbedrijf.nl'.",
        "Add a line such as 'Contact: mailto:security@yourcompany.nl'.",
        "RFC 9116 §2.5.3",
    ),
    _m(
        "no_expire",
        E,
        "In uw security.txt staat geen 'Expires'-regel: de datum tot wanneer de gegevens "
        "kloppen. Die regel is verplicht.",
        "Your security.txt has no 'Expires' line: the date until which the information is "
        "correct. That line is required.",
        "Zet er een regel in zoals 'Expires: 2026-12-31T23:00:00Z', hooguit een jaar vooruit.",
        "Add a line such as 'Expires: 2026-12-31T23:00:00Z', at most a year ahead.",
        "RFC 9116 §2.5.5",
    ),
    _m(
        "multi_expire",
        E,
        "Uw security.txt heeft meer dan één 'Expires'-regel; er mag er maar één zijn.",
        "Your security.txt has more than one 'Expires' line; only one is allowed.",
        "Haal de extra 'Expires'-regels weg, zodat er één overblijft.",
        "Remove the extra 'Expires' lines so that one remains.",
        "RFC 9116 §2.5.5",
    ),
    _m(
        "invalid_expiry",
        E,
        "De datum bij 'Expires' is niet in de vaste schrijfwijze gezet, dus kan een computer "
        "hem niet lezen.",
        "The date after 'Expires' is not written in the fixed format, so a computer cannot "
        "read it.",
        "Schrijf de datum precies zo: 2026-12-31T23:00:00Z (jaar-maand-dag, de letter T, de "
        "tijd, en Z).",
        "Write the date exactly like this: 2026-12-31T23:00:00Z (year-month-day, the letter T, "
        "the time, and Z).",
        "RFC 9116 §2.5.5, RFC 3339 §5.6",
    ),
    _m(
        "expired",
        E,
        "Uw security.txt is verlopen: de datum bij 'Expires' ligt in het verleden. Wie u wil "
        "waarschuwen, mag de gegevens dan niet meer vertrouwen.",
        "Your security.txt has expired: the date after 'Expires' is in the past. Whoever wants "
        "to warn you must then no longer trust the information.",
        "Zet er een nieuwe datum in, binnen een jaar, en kijk meteen of het contactadres nog "
        "klopt.",
        "Put in a new date, within a year, and check at once that the contact address is still "
        "right.",
        "RFC 9116 §2.5.5, §6.3",
    ),
    _mf(
        "invalid_media",
        E,
        "Uw website stuurt security.txt niet mee als gewone tekst ('text/plain'), maar "
        "bijvoorbeeld als webpagina. Programma's die het bestand zoeken, slaan het dan over.",
        "Your website does not send security.txt as plain text ('text/plain') but, for "
        "instance, as a web page. Programs that look for the file then skip it.",
        _SERVE_AS_TEXT,
        "RFC 9116 §2.3",
    ),
    _mf(
        "no_content_type",
        E,
        "Uw website zegt er niet bij wat voor bestand security.txt is (er ontbreekt een "
        "'Content-Type').",
        "Your website does not say what kind of file security.txt is (the 'Content-Type' is "
        "missing).",
        _SERVE_AS_TEXT,
        "RFC 9116 §2.3",
    ),
    _mf(
        "invalid_charset",
        E,
        "Uw website zegt dat security.txt in een andere tekenset dan UTF-8 staat, zodat "
        "letters verkeerd gelezen kunnen worden.",
        "Your website says that security.txt uses a character set other than UTF-8, so letters "
        "may be read wrongly.",
        _SERVE_AS_TEXT,
        "RFC 9116 §2.3",
    ),
    _m(
        "utf8",
        E,
        "Uw security.txt is niet als UTF-8 opgeslagen, zodat letters verkeerd gelezen kunnen "
        "worden.",
        "Your security.txt is not saved as UTF-8, so letters may be read wrongly.",
        "Sla het bestand opnieuw op met de codering 'UTF-8' (zonder BOM).",
        "Save the file again with the encoding 'UTF-8' (without BOM).",
        "RFC 9116 §2.3",
    ),
    _m(
        "bom_in_file",
        E,
        "Uw security.txt begint met een onzichtbaar teken (een 'BOM') dat daar niet mag staan.",
        "Your security.txt starts with an invisible character (a 'BOM') that is not allowed there.",
        "Sla het bestand op als 'UTF-8' zonder BOM (in Kladblok: kies 'UTF-8', niet 'UTF-8 met "
        "BOM').",
        "Save the file as 'UTF-8' without BOM (in Notepad: choose 'UTF-8', not 'UTF-8 with BOM').",
        "RFC 9116 §2.3, RFC 5198",
    ),
    _m(
        "no_canonical_match",
        E,
        "De 'Canonical'-regel in uw security.txt noemt een ander adres dan waar het bestand "
        "staat. Dan hoort niemand het bestand te vertrouwen.",
        "The 'Canonical' line in your security.txt names another address than the one the file "
        "is at. Then nobody should trust the file.",
        "Zet bij 'Canonical' het echte adres: https://uwdomein.nl/.well-known/security.txt.",
        "Put the real address after 'Canonical': https://yourdomain.nl/.well-known/security.txt.",
        "RFC 9116 §2.5.2",
    ),
    _m(
        "no_uri",
        E,
        "Een regel in uw security.txt bevat geen volledig adres. Een e-mailadres moet beginnen "
        "met 'mailto:', een telefoonnummer met 'tel:' en een website met 'https://'.",
        "A line in your security.txt does not hold a complete address. An e-mail address must "
        "start with 'mailto:', a phone number with 'tel:' and a website with 'https://'.",
        "Schrijf bijvoorbeeld 'Contact: mailto:security@uwbedrijf.nl' in plaats van alleen het "
        "e-mailadres.",
        "Write, for instance, 'Contact: mailto:security@yourcompany.nl' instead of just the "
        "address.",
        "RFC 9116 §2.5, RFC 3986 §3",
    ),
    _m(
        "no_https",
        E,
        "Een webadres in uw security.txt begint met 'http://' (onbeveiligd). Alle webadressen "
        "in het bestand moeten met 'https://' beginnen.",
        "A web address in your security.txt starts with 'http://' (not secure). Every web "
        "address in the file must start with 'https://'.",
        "Verander 'http://' in 'https://' en kijk of die pagina via https werkt.",
        "Change 'http://' into 'https://' and check that the page works over https.",
        "RFC 9116 §2.5",
    ),
    _m(
        "invalid_uri",
        E,
        "Een adres in uw security.txt is niet goed geschreven: er staat bijvoorbeeld een spatie "
        "of een vreemd teken in, of een e-mailadres zonder @.",
        "An address in your security.txt is not written correctly: it holds, for instance, a "
        "space or an odd character, or an e-mail address without @.",
        "Schrijf adressen zonder spaties, e-mail als 'mailto:naam@domein.nl', en een domeinnaam "
        "met accenten in de xn--vorm.",
        "Write addresses without spaces, e-mail as 'mailto:name@domain.nl', and a domain name "
        "with accents in its xn-- form.",
        "RFC 9116 §2.5, RFC 3986, RFC 6068",
    ),
    _m(
        "invalid_line",
        E,
        "Een regel in uw security.txt is geen veld ('Naam: waarde'), geen commentaar ('#') en "
        "niet leeg, of begint met een spatie.",
        "A line in your security.txt is not a field ('Name: value'), not a comment ('#') and "
        "not empty, or it starts with a space.",
        "Schrijf elke regel als 'Naam: waarde', begin commentaar met '#' en haal losse tekst weg.",
        "Write every line as 'Name: value', start comments with '#' and remove loose text.",
        "RFC 9116 §2.4, §3",
    ),
    _m(
        "invalid_field_name",
        E,
        "Een veldnaam in uw security.txt (het woord vóór de dubbele punt) bevat een spatie of "
        "een bijzonder teken.",
        "A field name in your security.txt (the word before the colon) holds a space or a "
        "special character.",
        "Gebruik de standaardnamen, zoals 'Contact', 'Expires' en 'Preferred-Languages'.",
        "Use the standard names, such as 'Contact', 'Expires' and 'Preferred-Languages'.",
        "RFC 9116 §3, RFC 5322 §3.6.8",
    ),
    _m(
        "prec_ws",
        E,
        "In uw security.txt staat een spatie vóór de dubbele punt (zoals 'Contact :').",
        "Your security.txt has a space before the colon (as in 'Contact :').",
        "Haal de spatie vóór de dubbele punt weg: 'Contact: ...'.",
        "Remove the space before the colon: 'Contact: ...'.",
        "RFC 9116 §3",
    ),
    _m(
        "no_space",
        E,
        "In uw security.txt staat na de dubbele punt geen spatie (zoals 'Contact:mailto:...').",
        "Your security.txt has no space after the colon (as in 'Contact:mailto:...').",
        "Zet één spatie na de dubbele punt: 'Contact: mailto:...'.",
        "Put one space after the colon: 'Contact: mailto:...'.",
        "RFC 9116 §3",
    ),
    _m(
        "empty_key",
        E,
        "Een regel in uw security.txt begint met een dubbele punt, zonder veldnaam ervoor.",
        "A line in your security.txt starts with a colon, without a field name before it.",
        "Zet de veldnaam vóór de dubbele punt, of haal de regel weg.",
        "Put the field name before the colon, or remove the line.",
        "RFC 9116 §3",
    ),
    _m(
        "empty_value",
        E,
        "Een veld in uw security.txt is leeg: er staat niets na de dubbele punt.",
        "A field in your security.txt is empty: nothing follows the colon.",
        "Vul de waarde in, of haal de regel weg.",
        "Fill in the value, or remove the line.",
        "RFC 9116 §3",
    ),
    _m(
        "no_line_separators",
        E,
        "De laatste regel van uw security.txt eindigt niet met een regeleinde (een Enter).",
        "The last line of your security.txt does not end with a line break (an Enter).",
        "Zet na de laatste regel nog een Enter en sla het bestand opnieuw op.",
        "Press Enter after the last line and save the file again.",
        "RFC 9116 §3",
    ),
    _m(
        "too_many_line_separators",
        E,
        "Uw ondertekende security.txt eindigt met meer dan één lege regel.",
        "Your signed security.txt ends with more than one empty line.",
        "Haal de lege regels na '-----END PGP SIGNATURE-----' weg, op één regeleinde na.",
        "Remove the empty lines after '-----END PGP SIGNATURE-----', except one line break.",
        "RFC 9116 §2.3, RFC 4880 §7",
    ),
    _m(
        "multi_lang",
        E,
        "'Preferred-Languages' staat meer dan eens in uw security.txt.",
        "'Preferred-Languages' appears more than once in your security.txt.",
        "Zet alle talen op één regel: 'Preferred-Languages: nl, en'.",
        "Put all languages on one line: 'Preferred-Languages: nl, en'.",
        "RFC 9116 §2.5.8",
    ),
    _m(
        "invalid_lang",
        E,
        "Bij 'Preferred-Languages' staat iets dat geen taalcode is (bijvoorbeeld 'Nederlands' "
        "in plaats van 'nl').",
        "'Preferred-Languages' holds something that is not a language code (for instance "
        "'Dutch' instead of 'nl').",
        "Gebruik korte taalcodes met komma's ertussen: 'Preferred-Languages: nl, en'.",
        "Use short language codes separated by commas: 'Preferred-Languages: nl, en'.",
        "RFC 9116 §2.5.8, RFC 5646",
    ),
    _m(
        "location",
        E,
        "Uw security.txt staat op de oude plek (/security.txt) in plaats van in de map "
        "/.well-known/.",
        "Your security.txt is at the old location (/security.txt) instead of in the "
        "/.well-known/ folder.",
        "Zet het bestand op /.well-known/security.txt (van de oude plek mag u daarheen "
        "doorverwijzen).",
        "Put the file at /.well-known/security.txt (the old location may redirect there).",
        "RFC 9116 §2.3",
    ),
    _m(
        "invalid_uri_scheme",
        E,
        "Uw security.txt is alleen via een onbeveiligde verbinding (http) op te halen.",
        "Your security.txt can only be fetched over an insecure connection (http).",
        "Zorg dat het bestand via https te openen is.",
        "Make sure the file can be opened over https.",
        "RFC 9116 §2.3",
    ),
    _m(
        "invalid_cert",
        E,
        "De beveiligde verbinding (https) van uw website is niet in orde (het certificaat of de "
        "versleuteling). Programma's die security.txt ophalen, weigeren dan, en niemand kan "
        "nagaan dat het bestand echt van u komt.",
        "The secure connection (https) of your website is not in order (the certificate or the "
        "encryption). Programs that fetch security.txt then refuse, and nobody can check that "
        "the file really comes from you.",
        "Laat uw websitebeheerder het certificaat en de https-instellingen in orde maken.",
        "Have your website administrator fix the certificate and the https settings.",
        "RFC 9116 §2.3, §6.5",
    ),
    _mf(
        "signed_format_issue",
        E,
        "Uw security.txt is ondertekend, maar de opmaak klopt niet: het bestand moet beginnen "
        "met '-----BEGIN PGP SIGNED MESSAGE-----', met een lege regel na de kopregels.",
        "Your security.txt is signed, but its layout is wrong: the file must start with "
        "'-----BEGIN PGP SIGNED MESSAGE-----', with an empty line after the header lines.",
        _RESIGN,
        "RFC 9116 §2.3, RFC 4880 §7",
    ),
    _m(
        "data_after_sig",
        E,
        "Na de handtekening in uw security.txt staat nog tekst; die telt niet mee.",
        "Your security.txt has text after the signature; it does not count.",
        "Zet alle velden vóór de handtekening en onderteken het bestand opnieuw.",
        "Put all fields before the signature and sign the file again.",
        "RFC 9116 §2.3, RFC 4880 §7",
    ),
    _mf(
        "pgp_data_error",
        E,
        "De handtekening in uw security.txt is onvolledig of beschadigd.",
        "The signature in your security.txt is incomplete or damaged.",
        _RESIGN,
        "RFC 4880 §6.2, §7",
    ),
    _mf(
        "pgp_signature_error",
        E,
        "Het handtekeningblok van uw security.txt bevat geen handtekening.",
        "The signature block of your security.txt holds no signature.",
        _RESIGN,
        "RFC 4880 §5.2, §7",
    ),
    _m(
        "no_csaf_file",
        E,
        "Een 'CSAF'-regel in uw security.txt wijst niet naar een bestand 'provider-metadata.json'.",
        "A 'CSAF' line in your security.txt does not point to a 'provider-metadata.json' file.",
        "Laat de 'CSAF'-regel wijzen naar uw provider-metadata.json, of haal hem weg.",
        "Point the 'CSAF' line to your provider-metadata.json, or remove it.",
        "CSAF 2.0 §7.1.8",
    ),
    _m(
        "too_large",
        E,
        "Op het adres van security.txt stuurt uw website meer dan 100 KiB; een security.txt is "
        "een klein tekstbestand.",
        "At the security.txt address your website sends more than 100 KiB; a security.txt is a "
        "small text file.",
        "Zet op die plek alleen het korte tekstbestand security.txt.",
        "Serve only the short security.txt text file at that address.",
        "RFC 9116 §2.3",
    ),
    # --- recommendations: a SHOULD or RECOMMENDED ------------------------------------------------
    _m(
        "long_expiry",
        R,
        "De datum bij 'Expires' ligt meer dan een jaar vooruit. Dan raken de gegevens "
        "makkelijk verouderd.",
        "The date after 'Expires' is more than a year ahead, so the information easily gets "
        "out of date.",
        "Kies een datum binnen een jaar en zet in uw agenda wanneer u het bestand bijwerkt.",
        "Choose a date within a year and note in your calendar when to update the file.",
        "RFC 9116 §2.5.5",
    ),
    _m(
        "no_encryption",
        R,
        "Uw security.txt noemt een e-mailadres, maar geen sleutel om u versleuteld te mailen "
        "('Encryption').",
        "Your security.txt gives an e-mail address but no key to send you encrypted mail "
        "('Encryption').",
        "Hebt u een PGP-sleutel, zet er dan een regel 'Encryption: https://…/pgp-key.txt' in.",
        "If you have a PGP key, add a line 'Encryption: https://…/pgp-key.txt'.",
        "RFC 9116 §2.5.3, §2.5.4",
    ),
    _m(
        "not_signed",
        R,
        "Uw security.txt is niet digitaal ondertekend. Met een handtekening kan iedereen "
        "nagaan dat het bestand echt van u is.",
        "Your security.txt is not digitally signed. With a signature anyone can check that the "
        "file really is yours.",
        "Onderteken het bestand met een PGP-sleutel ('gpg --clearsign'), als u die hebt.",
        "Sign the file with a PGP key ('gpg --clearsign'), if you have one.",
        "RFC 9116 §2.3",
    ),
    _m(
        "no_canonical",
        R,
        "Uw ondertekende security.txt zegt niet waar het hoort te staan (er is geen "
        "'Canonical'-regel).",
        "Your signed security.txt does not say where it belongs (there is no 'Canonical' line).",
        "Zet er 'Canonical: https://uwdomein.nl/.well-known/security.txt' in en onderteken "
        "opnieuw.",
        "Add 'Canonical: https://yourdomain.nl/.well-known/security.txt' and sign again.",
        "RFC 9116 §2.3, §2.5.2",
    ),
    _m(
        "multiple_csaf_fields",
        R,
        "Uw security.txt heeft meer dan één 'CSAF'-regel; één is genoeg.",
        "Your security.txt has more than one 'CSAF' line; one is enough.",
        "Houd één 'CSAF'-regel over.",
        "Keep one 'CSAF' line.",
        "CSAF 2.0 §7.1.8",
    ),
    # --- notifications -------------------------------------------------------------------------
    _m(
        "unknown_field",
        N,
        "Uw security.txt heeft een veld dat de standaard niet kent, misschien een tikfout.",
        "Your security.txt has a field the standard does not know, perhaps a typo.",
        "Controleer de spelling; eigen velden mogen, maar programma's slaan ze over.",
        "Check the spelling; own fields are allowed, but programs skip them.",
        "RFC 9116 §2.4",
    ),
    # --- missing: why there is no usable security.txt --------------------------------------------
    _mf(
        "not_found",
        MISSING,
        "Uw website heeft geen security.txt: het bestand waarin staat hoe iemand die een "
        "beveiligingsprobleem vindt, u kan waarschuwen.",
        "Your website has no security.txt: the file that says how someone who finds a security "
        "problem can warn you.",
        _PUBLISH,
        "RFC 9116 §2.3",
    ),
    _m(
        "html_page",
        MISSING,
        "Op het adres van security.txt laat uw website een gewone webpagina zien, niet het "
        "tekstbestand. Er is dus geen security.txt.",
        "At the security.txt address your website shows an ordinary web page, not the text "
        "file. So there is no security.txt.",
        "Zet het tekstbestand security.txt in de map /.well-known/ van uw website; dan toont "
        "de server dat in plaats van de pagina.",
        "Put the security.txt text file in the /.well-known/ folder of your website; the server "
        "then shows it instead of the page.",
        "RFC 9116 §2.3",
    ),
    _mf(
        "not_security_txt",
        MISSING,
        "Op het adres van security.txt staat iets anders dan een security.txt.",
        "Something other than a security.txt is at the security.txt address.",
        _PUBLISH,
        "RFC 9116 §2.3",
    ),
    _mf(
        "empty",
        MISSING,
        "Uw security.txt is leeg.",
        "Your security.txt is empty.",
        _PUBLISH,
        "RFC 9116 §2.3",
    ),
    _m(
        "status",
        MISSING,
        "De server geeft security.txt niet vrij: hij antwoordt met een foutcode.",
        "The server does not hand out security.txt: it answers with an error code.",
        "Zorg dat iedereen het bestand zonder inloggen kan openen.",
        "Make sure anyone can open the file without logging in.",
        "RFC 9116 §2.3",
    ),
    _m(
        "no_https_site",
        MISSING,
        "Uw website werkt niet via een beveiligde verbinding (https), dus kan niemand er een "
        "security.txt ophalen.",
        "Your website does not work over a secure connection (https), so nobody can fetch a "
        "security.txt from it.",
        "Laat https aanzetten op uw website en zet daarna security.txt erop.",
        "Have https switched on for your website, then publish security.txt on it.",
        "RFC 9116 §2.3",
    ),
    _m(
        "redirect_to_http",
        MISSING,
        "Het adres van security.txt stuurt door naar een onbeveiligd (http) adres.",
        "The security.txt address redirects to an insecure (http) address.",
        "Laat de doorverwijzing naar een https-adres gaan.",
        "Make the redirect go to an https address.",
        "RFC 9116 §2.3",
    ),
    _m(
        "redirect_private",
        MISSING,
        "Het adres van security.txt stuurt door naar een intern netwerkadres, dat van buitenaf "
        "niet te bereiken is.",
        "The security.txt address redirects to an internal network address that cannot be "
        "reached from outside.",
        "Laat de doorverwijzing naar een openbaar https-adres gaan, of zet het bestand zelf op "
        "de website.",
        "Make the redirect go to a public https address, or put the file on the website itself.",
        "RFC 9116 §2.3, §6.6",
    ),
    _m(
        "too_many_redirects",
        MISSING,
        "Het adres van security.txt stuurt meer dan vijf keer door, of in een kring rond.",
        "The security.txt address redirects more than five times, or in a circle.",
        "Verwijs in één stap door naar het echte bestand.",
        "Redirect in one step to the real file.",
        "RFC 9116 §2.3",
    ),
    _m(
        "redirect_failed",
        MISSING,
        "Het adres van security.txt stuurt door naar een adres dat niet werkt.",
        "The security.txt address redirects to an address that does not work.",
        "Controleer de doorverwijzing, of zet het bestand zelf op de website.",
        "Check the redirect, or put the file on the website itself.",
        "RFC 9116 §2.3",
    ),
    # --- hints next to a missing file ----------------------------------------------------------
    _m(
        "legacy_location",
        HINT,
        "Er staat wel een security.txt op de oude plek (/security.txt), maar die plek telt "
        "niet meer.",
        "There is a security.txt at the old location (/security.txt), but that location no "
        "longer counts.",
        "Zet het bestand (ook) op /.well-known/security.txt.",
        "Put the file (also) at /.well-known/security.txt.",
        "RFC 9116 §2.3",
    ),
    _m(
        "http_only",
        HINT,
        "Er staat wel een security.txt op de onbeveiligde (http) versie van uw website, maar "
        "alleen de https-versie telt.",
        "There is a security.txt on the insecure (http) version of your website, but only the "
        "https version counts.",
        "Zet het bestand op de https-versie van uw website.",
        "Put the file on the https version of your website.",
        "RFC 9116 §2.3",
    ),
)

BY_CODE: dict[str, Message] = {m.code: m for m in MESSAGES}


def message(code: str) -> Message:
    """The words for a code; KeyError for a code nobody wrote words for (a bug: tests catch it)."""
    return BY_CODE[code]


def codes(kind: Kind) -> frozenset[str]:
    return frozenset(m.code for m in MESSAGES if m.kind is kind)
