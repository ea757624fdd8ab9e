"""The `mail.*` catalogue ids: what each means for a company, what to do, what to forward.

Written for a baker, not for a mail administrator: what can happen, in plain words, and the one
thing to ask the IT supplier or mail provider. `technical` is what that supplier needs.
"""

from __future__ import annotations

from exposure.contract import Effort, FindingSpec
from exposure.severity import Severity
from exposure.text import Text

SPF_MISSING = FindingSpec(
    id="mail.spf.missing",
    severity=Severity.HIGH,
    title=Text(
        nl="Geen SPF: e-mail uit naam van uw bedrijf is makkelijk te vervalsen",
        en="No SPF: e-mail in your company's name is easy to forge",
    ),
    risk=Text(
        nl="Iedereen kan e-mail versturen die lijkt te komen van uw domein. Ontvangers kunnen "
        "niet nagaan of een bericht echt van u is. Zo komen nepfacturen en phishing uit uw naam "
        "bij uw klanten en leveranciers terecht.",
        en="Anyone can send e-mail that appears to come from your domain. Recipients cannot tell "
        "whether a message really is yours, so fake invoices and phishing in your name reach "
        "your customers and suppliers.",
    ),
    remediation=Text(
        nl="Vraag uw IT-leverancier of e-mailprovider om een SPF-record dat eindigt op '-all', "
        "en daarnaast een DMARC-record: begin met p=none en een adres voor rapporten (rua), en "
        "ga na een paar weken naar p=quarantine en dan p=reject. Verstuurt dit domein nooit "
        "e-mail? Dan is 'v=spf1 -all' met DMARC p=reject genoeg.",
        en="Ask your IT supplier or e-mail provider for an SPF record that ends in '-all', and "
        "a DMARC record as well: start with p=none and an address for reports (rua), and move "
        "to p=quarantine and then p=reject after a few weeks. Does this domain never send "
        "e-mail? Then 'v=spf1 -all' with DMARC p=reject is enough.",
    ),
    technical=Text(
        nl="Geen TXT-record dat begint met v=spf1 op het domein (RFC 7208). Publiceer "
        "bijvoorbeeld 'v=spf1 include:<provider> -all', of 'v=spf1 -all' voor een domein "
        "zonder uitgaande mail.",
        en="No TXT record starting with v=spf1 at the domain (RFC 7208). Publish e.g. "
        "'v=spf1 include:<provider> -all', or 'v=spf1 -all' for a domain that sends no mail.",
    ),
    effort=Effort.LOW,
)

SPF_INVALID = FindingSpec(
    id="mail.spf.invalid",
    severity=Severity.HIGH,
    title=Text(nl="Het SPF-record werkt niet", en="The SPF record does not work"),
    risk=Text(
        nl="Uw SPF-record bevat een fout, of er staan er meerdere. Ontvangende mailservers "
        "negeren het dan: uw domein is net zo makkelijk te vervalsen als zonder SPF, en uw "
        "eigen mail kan als verdacht worden gezien.",
        en="Your SPF record has an error, or there are several. Receiving mail servers then "
        "ignore it: your domain is as easy to forge as without SPF, and your own mail may be "
        "treated as suspicious.",
    ),
    remediation=Text(
        nl="Laat uw IT-leverancier het SPF-record repareren: precies één record, zonder fouten, "
        "met samen niet meer dan 10 verwijzingen (include, a, mx).",
        en="Have your IT supplier repair the SPF record: exactly one record, without errors, "
        "with no more than 10 references (include, a, mx) in total.",
    ),
    technical=Text(
        nl="check_host() geeft permerror: meerdere v=spf1-records, een syntaxfout, meer dan 10 "
        "DNS-opvragende termen of meer dan 2 lege look-ups (RFC 7208 §4.5, §4.6, §4.6.4), een "
        "include- of redirect-lus, of een include/redirect naar een domein zonder SPF. Het "
        "bewijs noemt de oorzaak en het aantal look-ups.",
        en="check_host() returns permerror: several v=spf1 records, a syntax error, more than "
        "10 DNS-querying terms or more than 2 void look-ups (RFC 7208 §4.5, §4.6, §4.6.4), an "
        "include or redirect loop, or an include/redirect to a domain without SPF. The "
        "evidence names the cause and the look-up count.",
    ),
    effort=Effort.LOW,
)

SPF_PERMISSIVE = FindingSpec(
    id="mail.spf.permissive",
    severity=Severity.HIGH,
    title=Text(nl="SPF laat iedereen toe", en="SPF lets anyone send"),
    risk=Text(
        nl="Uw SPF-record staat toe dat elke server ter wereld e-mail uit uw naam verstuurt, "
        "of zegt er niets over. Het beschermt dan niet tegen vervalste e-mail.",
        en="Your SPF record allows every server in the world to send e-mail in your name, or "
        "says nothing about it. It then offers no protection against forged e-mail.",
    ),
    remediation=Text(
        nl="Vraag uw IT-leverancier het record te laten eindigen op '-all' (of eerst '~all' als "
        "nog niet zeker is welke diensten namens u mailen). Heeft u nog geen DMARC, begin dan "
        "met p=none en een adres voor rapporten, en ga later naar p=reject.",
        en="Ask your IT supplier to end the record in '-all' (or '~all' first if it is not yet "
        "certain which services send mail for you). Without DMARC yet, start it at p=none with "
        "an address for reports, and move to p=reject later.",
    ),
    technical=Text(
        nl="Het beleid eindigt op +all of ?all, heeft geen all en geen redirect (standaard "
        "neutral), of bevat een pad dat elke afzender laat slagen (een include van een record "
        "met +all, ip4:0.0.0.0/0).",
        en="The policy ends in +all or ?all, has neither all nor redirect (neutral by default), "
        "or has a path that passes every sender (an include of a record with +all, "
        "ip4:0.0.0.0/0).",
    ),
    effort=Effort.LOW,
)

DMARC_MISSING = FindingSpec(
    id="mail.dmarc.missing",
    severity=Severity.HIGH,
    title=Text(nl="Geen DMARC", en="No DMARC"),
    risk=Text(
        nl="Zonder DMARC weten ontvangers niet wat ze moeten doen met e-mail die uw afzender "
        "vervalst: die komt gewoon binnen. Grote mailproviders verwachten DMARC inmiddels van "
        "elk bedrijf.",
        en="Without DMARC, recipients do not know what to do with e-mail that forges your "
        "address: it simply gets delivered. Large mail providers now expect DMARC from every "
        "business.",
    ),
    remediation=Text(
        nl="Vraag uw IT-leverancier een DMARC-record te plaatsen: begin met p=none en een adres "
        "voor rapporten (rua), en ga na een paar weken naar p=quarantine en dan p=reject.",
        en="Ask your IT supplier to publish a DMARC record: start with p=none and an address "
        "for reports (rua), and move to p=quarantine and then p=reject after a few weeks.",
    ),
    technical=Text(
        nl="Geen TXT-record v=DMARC1 op _dmarc.<domein>, en ook niet op het organisatiedomein "
        "volgens de Public Suffix List (RFC 7489 §6.6.3).",
        en="No v=DMARC1 TXT record at _dmarc.<domain>, nor at the organisational domain per "
        "the Public Suffix List (RFC 7489 §6.6.3).",
    ),
    effort=Effort.LOW,
)

DMARC_INVALID = FindingSpec(
    id="mail.dmarc.invalid",
    severity=Severity.HIGH,
    title=Text(nl="Het DMARC-record werkt niet", en="The DMARC record does not work"),
    risk=Text(
        nl="Uw DMARC-record bevat een fout, of er staan er meerdere. Ontvangers negeren het dan "
        "helemaal: vervalste e-mail uit uw naam wordt niet tegengehouden.",
        en="Your DMARC record has an error, or there are several. Recipients then ignore it "
        "entirely: forged e-mail in your name is not stopped.",
    ),
    remediation=Text(
        nl="Laat uw IT-leverancier het DMARC-record repareren: precies één record op "
        "_dmarc.<uw domein>, dat begint met 'v=DMARC1; p='.",
        en="Have your IT supplier repair the DMARC record: exactly one record at "
        "_dmarc.<your domain>, starting with 'v=DMARC1; p='.",
    ),
    technical=Text(
        nl="Meerdere v=DMARC1-records (RFC 7489 §6.6.3: dan geldt geen beleid), of één record "
        "dat niet te lezen is: een tag die twee keer voorkomt, een ongeldige waarde voor p, "
        "sp, np, pct of t, of een rua/ruf die geen URI is. Het bewijs noemt de fout.",
        en="Several v=DMARC1 records (RFC 7489 §6.6.3: then no policy applies), or one that "
        "does not parse: a tag given twice, an invalid value for p, sp, np, pct or t, or a "
        "rua/ruf that is not a URI. The evidence names the error.",
    ),
    effort=Effort.LOW,
)

DMARC_POLICY_NONE = FindingSpec(
    id="mail.dmarc.policy_none",
    severity=Severity.MEDIUM,
    title=Text(nl="DMARC kijkt alleen, en houdt niets tegen", en="DMARC only monitors"),
    risk=Text(
        nl="Uw DMARC-beleid staat op 'none': ontvangers melden vervalste e-mail hooguit, maar "
        "houden die niet tegen. Phishing uit uw naam komt dus nog steeds aan.",
        en="Your DMARC policy is 'none': recipients may report forged e-mail, but do not stop "
        "it. Phishing in your name still arrives.",
    ),
    remediation=Text(
        nl="Vraag uw IT-leverancier het beleid strenger te zetten: eerst p=quarantine, "
        "uiteindelijk p=reject. Staat er een adres voor rapporten (rua) in het record, bekijk "
        "die rapporten dan eerst samen; staat het er niet in, laat het dan eerst toevoegen en "
        "wacht een paar weken, zodat u ziet wie namens u mailt.",
        en="Ask your IT supplier to make the policy stricter: first p=quarantine, eventually "
        "p=reject. If the record has an address for reports (rua), review those reports "
        "together first; if it has none, have one added first and wait a few weeks, so you "
        "see who sends mail on your behalf.",
    ),
    technical=Text(
        nl="Het toegepaste beleid is none: p=none (of sp=none via het organisatiedomein), geen "
        "p-tag, of quarantine dat door t=y of pct=0 een stap lager uitkomt.",
        en="The effective policy is none: p=none (or sp=none through the organisational "
        "domain), no p tag, or quarantine lowered one step by t=y or pct=0.",
    ),
    effort=Effort.MEDIUM,
)

DMARC_NO_REPORTS = FindingSpec(
    id="mail.dmarc.no_reports",
    severity=Severity.LOW,
    title=Text(nl="Geen DMARC-rapporten", en="No DMARC reports"),
    risk=Text(
        nl="Uw DMARC-record vraagt geen rapporten op. U ziet dus niet wie er e-mail uit uw naam "
        "verstuurt, ook niet als iemand uw domein misbruikt.",
        en="Your DMARC record asks for no reports. You cannot see who sends e-mail in your "
        "name, not even when someone abuses your domain.",
    ),
    remediation=Text(
        nl="Laat uw IT-leverancier een adres voor rapporten toevoegen (rua=mailto:...), of een "
        "dienst instellen die de rapporten voor u leesbaar maakt.",
        en="Have your IT supplier add an address for reports (rua=mailto:...), or set up a "
        "service that makes the reports readable for you.",
    ),
    technical=Text(
        nl="Het toegepaste DMARC-record heeft geen rua-tag (RFC 7489 §6.3).",
        en="The DMARC record that applies has no rua tag (RFC 7489 §6.3).",
    ),
    effort=Effort.LOW,
)

DKIM_MISSING = FindingSpec(
    id="mail.dkim.missing",
    severity=Severity.LOW,
    title=Text(
        nl="We vinden geen aanwijzing voor DKIM-handtekeningen",
        en="We find no sign of DKIM signatures",
    ),
    risk=Text(
        nl="We vinden in uw domein geen aanwijzing dat uw uitgaande e-mail digitaal wordt "
        "ondertekend (DKIM). Van buitenaf is dat niet zeker te zien; uw IT-leverancier kan het "
        "bevestigen. Ondertekende e-mail komt betrouwbaarder over bij ontvangers, en is nodig "
        "om DMARC streng te kunnen zetten zonder dat uw eigen mail wordt geweigerd.",
        en="We find no sign in your domain that your outgoing e-mail is digitally signed "
        "(DKIM). From the outside this cannot be seen for certain; your IT supplier can "
        "confirm it. Signed e-mail is trusted more by recipients, and is needed to make DMARC "
        "strict without your own mail being refused.",
    ),
    remediation=Text(
        nl="Zet DKIM-ondertekening aan bij uw e-mailprovider (bij Microsoft 365 en Google "
        "Workspace is dat een instelling) en laat de sleutel in DNS zetten.",
        en="Turn on DKIM signing at your e-mail provider (a setting in Microsoft 365 and Google "
        "Workspace) and have the key published in DNS.",
    ),
    technical=Text(
        nl="_domainkey.<domein> geeft NXDOMAIN: er is geen enkele DKIM-selector gepubliceerd "
        "(de methode van internet.nl; selectors zelf zijn niet op te vragen). Alleen voor "
        "domeinen met MX.",
        en="_domainkey.<domain> is NXDOMAIN: no DKIM selector is published at all (the "
        "internet.nl method; selectors themselves cannot be listed). Only for domains with MX.",
    ),
    effort=Effort.MEDIUM,
)

STARTTLS_MISSING = FindingSpec(
    id="mail.starttls.missing",
    severity=Severity.HIGH,
    title=Text(nl="Uw mailserver versleutelt niet", en="Your mail server does not encrypt"),
    risk=Text(
        nl="De mailserver die e-mail voor u ontvangt, biedt geen versleuteling aan. E-mail van "
        "klanten en leveranciers aan u gaat dan leesbaar over het internet en kan onderweg "
        "worden meegelezen of veranderd.",
        en="The mail server that receives your e-mail offers no encryption. E-mail from "
        "customers and suppliers to you then crosses the internet readable by anyone on the "
        "way, and can be altered.",
    ),
    remediation=Text(
        nl="Vraag uw e-mailprovider of IT-leverancier om STARTTLS aan te zetten op deze "
        "mailserver, met een geldig certificaat.",
        en="Ask your e-mail provider or IT supplier to turn on STARTTLS on this mail server, "
        "with a valid certificate.",
    ),
    technical=Text(
        nl="De MX-host antwoordt op SMTP (poort 25), maar noemt STARTTLS niet in het "
        "EHLO-antwoord, of weigert het (bijv. 454 TLS not available).",
        en="The MX host answers SMTP (port 25) but does not list STARTTLS in its EHLO answer, "
        "or refuses it (e.g. 454 TLS not available).",
    ),
    effort=Effort.MEDIUM,
)

STARTTLS_LEGACY = FindingSpec(
    id="mail.starttls.legacy",
    severity=Severity.MEDIUM,
    title=Text(
        nl="Uw mailserver gebruikt verouderde versleuteling",
        en="Your mail server uses outdated encryption",
    ),
    risk=Text(
        nl="De mailserver versleutelt alleen met TLS 1.0 of 1.1. Die versies zijn verouderd en "
        "zwak, en moderne mailservers gaan ze weigeren.",
        en="The mail server encrypts only with TLS 1.0 or 1.1. Those versions are outdated and "
        "weak, and modern mail servers are dropping them.",
    ),
    remediation=Text(
        nl="Laat de mailserver bijwerken of vervangen zodat hij TLS 1.2 en 1.3 spreekt.",
        en="Have the mail server updated or replaced so that it speaks TLS 1.2 and 1.3.",
    ),
    technical=Text(
        nl="Na STARTTLS kiest de server, met een client die TLS 1.0 tot 1.3 aanbiedt, TLS 1.0 of "
        "1.1: het beste wat hij kan.",
        en="After STARTTLS, offered TLS 1.0 to 1.3, the server picks TLS 1.0 or 1.1: the best "
        "it can do.",
    ),
    effort=Effort.MEDIUM,
)

STARTTLS_CERT_INVALID = FindingSpec(
    id="mail.starttls.cert_invalid",
    severity=Severity.LOW,
    title=Text(
        nl="Het certificaat van uw mailserver klopt niet",
        en="Your mail server's certificate is not valid",
    ),
    risk=Text(
        nl="Het certificaat van de mailserver is verlopen, niet vertrouwd of voor een andere "
        "naam. Versleutelen lukt nog, maar verzenders kunnen niet nagaan dat ze met uw echte "
        "server praten; met MTA-STS of DANE wordt e-mail aan u zelfs geweigerd.",
        en="The mail server's certificate has expired, is not trusted or is for another name. "
        "Encryption still works, but senders cannot verify they talk to your real server; with "
        "MTA-STS or DANE, mail to you is even refused.",
    ),
    remediation=Text(
        nl="Laat uw IT-leverancier een geldig certificaat voor de naam van de mailserver "
        "installeren (bijvoorbeeld gratis van Let's Encrypt) en het automatisch laten verlengen.",
        en="Have your IT supplier install a valid certificate for the mail server's name (for "
        "example a free one from Let's Encrypt) and renew it automatically.",
    ),
    technical=Text(
        nl="Het certificaat na STARTTLS is verlopen of nog niet geldig, leidt niet naar een "
        "vertrouwde root (zelfondertekend, onbekende CA, ontbrekend tussencertificaat) of dekt "
        "de MX-hostnaam niet (subjectAltName).",
        en="The certificate after STARTTLS is expired or not yet valid, does not chain to a "
        "trusted root (self-signed, unknown CA, missing intermediate) or does not cover the MX "
        "host name (subjectAltName).",
    ),
    effort=Effort.LOW,
)

MX_UNREACHABLE = FindingSpec(
    id="mail.mx.unreachable",
    severity=Severity.INFO,
    title=Text(nl="Mailserver niet bereikbaar", en="Mail server not reachable"),
    risk=Text(
        nl="Een mailserver van uw domein antwoordde niet toen wij keken. E-mail aan u kan dan "
        "vertraagd raken of verloren gaan, en wij konden de beveiliging ervan niet controleren.",
        en="A mail server of your domain did not answer when we looked. Mail to you may be "
        "delayed or lost, and we could not check its security.",
    ),
    remediation=Text(
        nl="Vraag uw IT-leverancier na te gaan of deze mailserver nog in gebruik is. Zo niet, "
        "laat hem dan uit de MX-records halen.",
        en="Ask your IT supplier whether this mail server is still in use. If not, have it "
        "removed from the MX records.",
    ),
    technical=Text(
        nl="Geen SMTP-banner op poort 25: verbinding geweigerd, time-out, reset, of de hostnaam "
        "heeft geen adres. De STARTTLS-beoordeling van deze host blijft open.",
        en="No SMTP banner on port 25: connection refused, time-out, reset, or the host name "
        "has no address. The STARTTLS verdicts of this host stay open.",
    ),
    effort=Effort.LOW,
)

MTA_STS_MISSING = FindingSpec(
    id="mail.mta_sts.missing",
    severity=Severity.LOW,
    title=Text(nl="Geen MTA-STS", en="No MTA-STS"),
    risk=Text(
        nl="Zonder MTA-STS kan iemand die internetverkeer onderschept, ervoor zorgen dat e-mail "
        "aan u onversleuteld of bij een valse server wordt afgeleverd.",
        en="Without MTA-STS, someone who intercepts internet traffic can have e-mail to you "
        "delivered unencrypted or to a fake server.",
    ),
    remediation=Text(
        nl="Vraag uw e-mailprovider of IT-leverancier MTA-STS in te stellen: een DNS-record en "
        "een klein beleidsbestand op https://mta-sts.<uw domein>.",
        en="Ask your e-mail provider or IT supplier to set up MTA-STS: a DNS record and a "
        "small policy file at https://mta-sts.<your domain>.",
    ),
    technical=Text(
        nl="Geen v=STSv1-record op _mta-sts.<domein> (RFC 8461), of een beleid met mode: none "
        "(ingetrokken).",
        en="No v=STSv1 record at _mta-sts.<domain> (RFC 8461), or a policy in mode: none "
        "(withdrawn).",
    ),
    effort=Effort.MEDIUM,
)

MTA_STS_INVALID = FindingSpec(
    id="mail.mta_sts.invalid",
    severity=Severity.MEDIUM,
    title=Text(nl="MTA-STS werkt niet", en="MTA-STS does not work"),
    risk=Text(
        nl="U heeft MTA-STS ingesteld, maar het beleid is niet op te halen, bevat fouten of "
        "noemt uw mailservers niet. Verzenders negeren het dan, of kunnen in het ergste geval "
        "geen e-mail meer aan u afleveren.",
        en="You have set up MTA-STS, but its policy cannot be fetched, has errors or does not "
        "list your mail servers. Senders then ignore it, or at worst can no longer deliver "
        "e-mail to you.",
    ),
    remediation=Text(
        nl="Laat uw IT-leverancier het beleid op https://mta-sts.<uw domein>/.well-known/"
        "mta-sts.txt nakijken: bereikbaar met een geldig certificaat, zonder doorverwijzing, "
        "als platte tekst, met al uw mailservers onder 'mx:'.",
        en="Have your IT supplier check the policy at https://mta-sts.<your domain>/"
        ".well-known/mta-sts.txt: reachable with a valid certificate, without redirects, as "
        "plain text, listing all your mail servers under 'mx:'.",
    ),
    technical=Text(
        nl="Meerdere of ongeldige _mta-sts-records, of een beleid dat niet op te halen is "
        "(geweigerd, geen adres, ongeldig certificaat, redirect, geen 200, geen text/plain, "
        "groter dan 64 KiB), niet te lezen is, of niet alle MX-hosts dekt (RFC 8461 §3, §4.1).",
        en="Several or invalid _mta-sts records, or a policy that cannot be fetched (refused, "
        "no address, invalid certificate, redirect, not 200, not text/plain, larger than "
        "64 KiB), does not parse, or does not cover every MX host (RFC 8461 §3, §4.1).",
    ),
    effort=Effort.MEDIUM,
)

TLSRPT_MISSING = FindingSpec(
    id="mail.tlsrpt.missing",
    severity=Severity.INFO,
    title=Text(nl="Geen TLS-rapportage", en="No TLS reporting"),
    risk=Text(
        nl="U hoort het niet als andere mailservers problemen hebben met de versleuteling van "
        "e-mail aan u. Een storing of een aanval blijft zo onopgemerkt.",
        en="You are not told when other mail servers have trouble encrypting e-mail to you. "
        "A fault or an attack goes unnoticed.",
    ),
    remediation=Text(
        nl="Laat een TLS-RPT-record plaatsen op _smtp._tls.<uw domein>, met een adres voor de "
        "rapporten.",
        en="Have a TLS-RPT record published at _smtp._tls.<your domain>, with an address for "
        "the reports.",
    ),
    technical=Text(
        nl="Geen (bruikbaar) v=TLSRPTv1-record met rua=mailto: of https: op "
        "_smtp._tls.<domein> (RFC 8460).",
        en="No (usable) v=TLSRPTv1 record with rua=mailto: or https: at _smtp._tls.<domain> "
        "(RFC 8460).",
    ),
    effort=Effort.LOW,
)

DANE_MISSING = FindingSpec(
    id="mail.dane.missing",
    severity=Severity.LOW,
    title=Text(nl="Geen DANE voor uw mailserver", en="No DANE for your mail server"),
    risk=Text(
        nl="Met DANE kunnen verzenders via beveiligde DNS nagaan dat ze echt met uw mailserver "
        "praten. Zonder DANE is e-mail aan u minder goed beschermd tegen afluisteren.",
        en="With DANE, senders can verify through secured DNS that they are talking to your "
        "real mail server. Without it, e-mail to you is less well protected against "
        "eavesdropping.",
    ),
    remediation=Text(
        nl="Vraag uw e-mailprovider of DANE mogelijk is; veel Nederlandse providers bieden het "
        "aan. Het vraagt DNSSEC op het domein van de mailserver.",
        en="Ask your e-mail provider whether DANE is possible; many Dutch providers offer it. "
        "It needs DNSSEC on the mail server's domain.",
    ),
    technical=Text(
        nl="Geen TLSA-records op _25._tcp.<mx-host> (RFC 7672).",
        en="No TLSA records at _25._tcp.<mx host> (RFC 7672).",
    ),
    effort=Effort.HIGH,
)

MAIL_FINDINGS = (
    SPF_MISSING,
    SPF_INVALID,
    SPF_PERMISSIVE,
    DMARC_MISSING,
    DMARC_INVALID,
    DMARC_POLICY_NONE,
    DMARC_NO_REPORTS,
    DKIM_MISSING,
    STARTTLS_MISSING,
    STARTTLS_LEGACY,
    STARTTLS_CERT_INVALID,
    MX_UNREACHABLE,
    MTA_STS_MISSING,
    MTA_STS_INVALID,
    TLSRPT_MISSING,
    DANE_MISSING,
)
