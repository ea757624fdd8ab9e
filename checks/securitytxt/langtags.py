"""Language tags of `Preferred-Languages` (RFC 9116 §2.5.8): RFC 5646 well-formedness and validity.

RFC 9116 asks for "language tags as defined in RFC 5646". A tag can be *well-formed* (it matches
the ABNF of RFC 5646 §2.1) and still not *valid* (its subtags are not in the IANA registry):
`Dutch` and `English` are well-formed (a 5-8 letter language subtag is allowed by the grammar)
but no such language is registered, and those are exactly the mistakes a shop owner makes. The
Digital Trust Center's validator (through `langcodes`) checks validity, so we do too, as far as
the data below reaches:

- two-letter language subtags, four-letter scripts and two-letter regions are checked against
  the tables below (the registry's entries, as `langcodes` sees them, so that our verdict and
  the DTC's agree);
- 4-8 letter language subtags are refused (none is registered);
- three-letter languages, extended language subtags, three-digit regions, variants and
  extensions are only checked for form (the registry holds thousands of three-letter codes; a
  wrong one in a security.txt is rare and harmless). `langcodes` refuses some of them; the
  cross-check test documents that difference.

The tables are data, not code: regenerate them from the IANA Language Subtag Registry when it
changes (`langcodes.tag_is_valid` over all two-letter and four-letter combinations).
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


LANGUAGES_2 = _words(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
    hy hz ia id ie ig ii ik in io is it iu iw ja ji jv jw ka kg ki kj kk kl km kn ko kr ks ku kv
    kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mo mr ms mt my na nb nd ne ng nl nn no nr
    nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq
    sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
    yo za zh zu
    """
)
REGIONS_2 = _words(
    """
    AA AC AD AE AF AG AI AL AM AN AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN
    BO BQ BR BS BT BU BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CP CR CS CT CU CV CW CX CY
    CZ DD DE DG DJ DK DM DO DY DZ EA EC EE EG EH ER ES ET EU EZ FI FJ FK FM FO FQ FR FX GA GB GD
    GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU HV IC ID IE IL IM IN IO IQ
    IR IS IT JE JM JO JP JT KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA
    MC MD ME MF MG MH MI MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NH NI NL
    NO NP NQ NR NT NU NZ OM PA PC PE PF PG PH PK PL PM PN PR PS PT PU PW PY PZ QA QM QN QO QP QQ
    QR QS QT QU QV QW QX QY QZ RE RH RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS
    ST SU SV SX SY SZ TA TC TD TF TG TH TJ TK TL TM TN TO TP TR TT TV TW TZ UA UG UK UM UN US UY
    UZ VA VC VD VE VG VI VN VU WF WK WS XA XB XC XD XE XF XG XH XI XJ XK XL XM XN XO XP XQ XR XS
    XT XU XV XW XX XY XZ YD YE YT YU ZA ZM ZR ZW ZZ
    """
)

SCRIPTS = _words(
    """
    adlm afak aghb ahom arab aran armi armn avst bali bamu bass batk beng bhks blis bopo brah
    brai bugi buhd cakm cans cari cham cher chrs cirt copt cpmn cprt cyrl cyrs deva diak dogr
    dsrt dupl egyd egyh egyp elba elym ethi geok geor glag gong gonm goth gran grek gujr guru
    hanb hang hani hano hans hant hatr hebr hira hluw hmng hmnp hrkt hung inds ital jamo java
    jpan jurc kali kana khar khmr khoj kitl kits knda kore kpel kthi lana laoo latf latg latn
    leke lepc limb lina linb lisu loma lyci lydi mahj maka mand mani marc maya medf mend merc
    mero mlym modi mong moon mroo mtei mult mymr nand narb nbat newa nkdb nkgb nkoo nshu ogam
    olck orkh orya osge osma ougr palm pauc pcun pelm perm phag phli phlp phlv phnx piqd plrd
    prti psin qaaa qaab qaac qaad qaae qaaf qaag qaah qaai qaaj qaak qaal qaam qaan qaao qaap
    qaaq qaar qaas qaat qaau qaav qaaw qaax qaay qaaz qaba qabb qabc qabd qabe qabf qabg qabh
    qabi qabj qabk qabl qabm qabn qabo qabp qabq qabr qabs qabt qabu qabv qabw qabx ranj rjng
    rohg roro runr samr sara sarb saur sgnw shaw shrd shui sidd sind sinh sogd sogo sora soyo
    sund sylo syrc syre syrj syrn tagb takr tale talu taml tang tavt telu teng tfng tglg thaa
    thai tibt tirh tnsa toto ugar vaii visp vith wara wcho wole xpeo xsux yezi yiii zanb zinh
    zmth zsye zsym zxxx zyyy zzzz
    """
)

#: RFC 5646 §2.2.8: grandfathered tags, valid as a whole although they do not fit the grammar.
GRANDFATHERED = _words(
    """
    en-gb-oed i-ami i-bnn i-default i-enochian i-hak i-klingon i-lux i-mingo i-navajo i-pwn i-tao
    i-tay i-tsu sgn-be-fr sgn-be-nl sgn-ch-de art-lojban cel-gaulish no-bok no-nyn zh-guoyu
    zh-hakka zh-min zh-min-nan zh-xiang
    """
)

_ALNUM = "[a-z0-9]"
_LANGTAG = re.compile(
    rf"""
    (?P<language>[a-z]{{2,3}}(?:-[a-z]{{3}}){{0,3}}|[a-z]{{4,8}})
    (?:-(?P<script>[a-z]{{4}}))?
    (?:-(?P<region>[a-z]{{2}}|[0-9]{{3}}))?
    (?P<variants>(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*)
    (?P<extensions>(?:-[0-9a-wyz](?:-{_ALNUM}{{2,8}})+)*)
    (?:-x(?:-{_ALNUM}{{1,8}})+)?
    """,
    re.VERBOSE | re.ASCII,
)
_PRIVATEUSE = re.compile(rf"x(?:-{_ALNUM}{{1,8}})+", re.ASCII)


def is_well_formed(tag: str) -> bool:
    """Does `tag` match the `Language-Tag` ABNF of RFC 5646 §2.1 (case-insensitive)?"""
    low = tag.lower()
    if low in GRANDFATHERED or _PRIVATEUSE.fullmatch(low):
        return True
    match = _LANGTAG.fullmatch(low)
    if match is None:
        return False
    variants = [v for v in match["variants"].split("-") if v]
    if len(variants) != len(set(variants)):
        return False  # §2.2.5: a variant must not repeat
    singletons = re.findall(r"-([0-9a-wyz])(?=-)", match["extensions"])
    return len(singletons) == len(set(singletons))  # §2.2.6: one extension per singleton


def is_valid(tag: str) -> bool:
    """Well-formed, and its language, script and region subtags are registered (see above)."""
    if not is_well_formed(tag):
        return False
    low = tag.lower()
    if low in GRANDFATHERED or _PRIVATEUSE.fullmatch(low):
        return True
    match = _LANGTAG.fullmatch(low)
    assert match is not None
    primary = match["language"].split("-")[0]
    if len(primary) == 2 and primary not in LANGUAGES_2:
        return False
    if len(primary) >= 4:
        return False
    script = match["script"]
    if script and script not in SCRIPTS:
        return False
    region = match["region"]
    return not (region and region.isalpha() and region.upper() not in REGIONS_2)
