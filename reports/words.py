"""The words of the reports themselves, in Dutch and English.

Words about a finding (title, risk, remediation) come from the check that emits it, through the
registry; the words here are the page around them: headings, theme names, sentences that
explain a grade or a comparison. Kept in one table so that a translation or a change of tone
happens in one place, and so that a test can hold every entry to "both languages present".

The tone is the Meldpunt's: plain, practical, personal ("u"), no jargon in the parts an owner
reads; jargon only in the technical appendix for the IT supplier.
"""

from __future__ import annotations

from collections.abc import Mapping

from exposure.catalogue import Theme
from exposure.text import Text

T = Text

UI: Mapping[str, Text] = {
    # --- the company report --------------------------------------------------------------------
    "report_title": T("Beveiligingsrapport", "Security report"),
    "report_for": T("voor", "for"),
    "scanned_on": T("Gescand op", "Scanned on"),
    "not_scanned_yet": T(
        "Uw bedrijf is nog niet gescand. Dit rapport wordt gevuld na de eerste scan.",
        "Your company has not been scanned yet. This report fills up after the first scan.",
    ),
    "what_we_scanned": T("Wat we bekeken", "What we looked at"),
    "passive_note": T(
        "We kijken alleen van buitenaf, zoals elke bezoeker van internet dat kan: we bekijken "
        "uw website, uw e-mailinstellingen en wat openbare zoekmachines zoals Shodan over uw "
        "internetadressen weten. We proberen nergens in te loggen en breken nergens in.",
        "We only look from the outside, as any visitor of the internet can: we look at your "
        "website, your e-mail settings and what public search engines such as Shodan know "
        "about your internet addresses. We never try to log in or break in.",
    ),
    "your_grade": T("Uw cijfer", "Your grade"),
    "points_of": T("punten van de 100", "points out of 100"),
    "open_problems": T("problemen om op te lossen", "problems to fix"),
    "one_open_problem": T("probleem om op te lossen", "problem to fix"),
    "how_grade": T("Zo berekenen we uw cijfer", "How we compute your grade"),
    "where_points_went": T("Waar de punten naartoe gingen", "Where the points went"),
    "budget_relief": T(
        "Problemen met ernst laag tellen samen hoogstens 10 punten plus 1 per laag probleem "
        "(en nooit meer dan 24)",
        "Low problems count at most 10 points plus 1 per low problem together (and never more "
        "than 24)",
    ),
    "floor_lift": T(
        "Onder 30 punten: u houdt 30 min uw {n} open problemen",
        "Below 30 points: you keep 30 minus your {n} open problems",
    ),
    "your_score": T("Uw punten", "Your points"),
    "start_points": T("Beginstand", "Starting score"),
    "no_grade_yet": T("Nog geen cijfer", "No grade yet"),
    "what_we_scan": T("Wat we gaan bekijken", "What we will look at"),
    "no_deductions": T("Er gingen geen punten af.", "No points were taken off."),
    "capped_note": T(
        "Uw cijfer is lager dan uw punten alleen zouden geven, omdat er een ernstig probleem "
        "openstaat.",
        "Your grade is lower than your points alone would give, because a serious problem is open.",
    ),
    "do_first": T("Doe dit eerst", "Do these first"),
    "do_first_intro": T(
        "De belangrijkste acties: eerst wat de meeste schade kan doen, daarna wat het snelst "
        "geregeld is. Geef deze lijst aan uw "
        "IT-leverancier of websitebouwer als u het niet zelf doet.",
        "The most important actions: first what can do the most harm, then what is quickest to "
        "fix. Give this list to your "
        "IT supplier or web designer if you do not do it yourself.",
    ),
    "nothing_to_do": T(
        "Er is op dit moment niets dat u hoeft te doen. Goed bezig!",
        "There is nothing you need to do right now. Well done!",
    ),
    "nothing_to_do_partly": T(
        "In wat we konden testen, vonden we niets om te doen. Een deel konden we niet testen; "
        "zie hieronder.",
        "In what we could test we found nothing to do. Part of it could not be tested; see below.",
    ),
    "nothing_to_do_untested": T(
        "We konden niets testen, dus we kunnen ook niet zeggen wat u moet doen.",
        "We could not test anything, so we cannot say what you should do either.",
    ),
    "more_actions": T("Nog {n} andere acties staan hieronder.", "{n} more actions are below."),
    "more_actions_1": T("Nog 1 andere actie staat hieronder.", "1 more action is below."),
    "on_hosts": T("Op", "On"),
    "and_more_hosts": T("en nog {n}", "and {n} more"),
    "gain_points": T("kost nu {n} punten", "costs {n} points now"),
    "changes": T("Wat is er veranderd?", "What changed?"),
    "since_previous": T("Sinds de vorige scan van {date}", "Since the previous scan of {date}"),
    "first_scan": T(
        "Dit is de eerste scan van uw bedrijf. Bij de volgende scan ziet u hier wat er is "
        "verbeterd.",
        "This is the first scan of your company. After the next scan you will see here what "
        "improved.",
    ),
    "score_went": T(
        "Uw punten gingen van {before} naar {after}.", "Your points went from {before} to {after}."
    ),
    "score_same": T("Uw punten bleven {after}.", "Your points stayed at {after}."),
    "resolved_since": T("Opgelost", "Fixed"),
    "new_since": T("Nieuw", "New"),
    "reopened_since": T("Teruggekomen", "Came back"),
    "nothing_changed": T(
        "Er is niets veranderd sinds de vorige scan.", "Nothing changed since the previous scan."
    ),
    "compare": T("Vergeleken met anderen", "Compared with others"),
    "compare_intro": T(
        "Het gemiddelde van andere bedrijven, zonder namen. We tonen een gemiddelde alleen als "
        "er minstens {n} bedrijven in de groep zitten.",
        "The average of other companies, without names. We show an average only when a group "
        "has at least {n} companies.",
    ),
    "compare_no_grade": T(
        "Zonder cijfer valt er niets te vergelijken.",
        "Without a grade there is nothing to compare.",
    ),
    "you": T("Uw punten", "Your points"),
    "sector_average": T("Gemiddelde in uw sector", "Average in your sector"),
    "area_average": T("Gemiddelde in het havengebied", "Average in the port area"),
    "sector_too_small": T(
        "Te weinig bedrijven in uw sector voor een eerlijke vergelijking.",
        "Too few companies in your sector for a fair comparison.",
    ),
    "no_sector": T(
        "Uw sector is niet bekend bij het Meldpunt.",
        "The Meldpunt does not know your sector.",
    ),
    "companies_n": T("{n} bedrijven", "{n} companies"),
    "companies_1": T("1 bedrijf", "1 company"),
    "better_than_sector": T(
        "U hebt meer punten dan het gemiddelde in uw sector.",
        "You have more points than the average in your sector.",
    ),
    "worse_than_sector": T(
        "U hebt minder punten dan het gemiddelde in uw sector.",
        "You have fewer points than the average in your sector.",
    ),
    "all_findings": T("Alle bevindingen per onderwerp", "All findings by topic"),
    "theme_ok": T("Getest: geen problemen gevonden.", "Tested: no problems found."),
    "theme_untested": T(
        "Niet getest: hier kunnen we niets over zeggen.",
        "Not tested: we cannot say anything about this.",
    ),
    "theme_partly_untested": T(
        "Niet alles kon worden getest. Waar we niets weten, zeggen we ook niet dat het in orde is.",
        "Not everything could be tested. Where we do not know, we do not say it is fine.",
    ),
    "theme_accepted_only": T(
        "Geen open problemen; wat er was, hebt u bewust aanvaard (zie hieronder).",
        "No open problems; what there was, you chose to accept (see below).",
    ),
    "state_passed": T("Getest, in orde", "Tested, fine"),
    "state_findings": T("Problemen gevonden", "Problems found"),
    "state_untested": T("Niet getest", "Not tested"),
    "state_absent": T("Geen website gevonden", "No website found"),
    "theme_absent": T(
        "Geen website gevonden: op deze domeinnaam staat geen website, met en zonder www. Er is "
        "hier dus niets te testen; dat is geen probleem.",
        "No website found: there is no website on this domain name, with or without www. So "
        "there is nothing to test here; that is not a problem.",
    ),
    "passed_on": T("In orde op", "Fine on"),
    "untested_on": T("Niet getest op", "Not tested on"),
    "no_grade_nothing_tested": T(
        "Geen cijfer: bij de laatste scan kon geen enkele test worden uitgevoerd. Dat zegt "
        "niets over hoe veilig u bent; we weten het gewoon niet.",
        "No grade: at the latest scan not a single test could be run. That says nothing about "
        "how safe you are; we simply do not know.",
    ),
    "advice_partial": T(
        "In wat we konden testen, ziet het er goed uit. Over wat we niet konden testen, zeggen "
        "we niets: dat kan in orde zijn of niet.",
        "What we could test looks good. About what we could not test we say nothing: it may or "
        "may not be fine.",
    ),
    "grade_basis": T(
        "Dit cijfer rust op {decided} van de {parts} onderdelen die we wilden testen.",
        "This grade rests on {decided} of the {parts} parts we meant to test.",
    ),
    "grade_basis_untested": T(
        "{n} onderdelen konden we niet testen; die tellen niet mee, in geen enkele richting.",
        "{n} parts could not be tested; they do not count, in either direction.",
    ),
    "grade_basis_untested_one": T(
        "1 onderdeel konden we niet testen; dat telt niet mee, in geen enkele richting.",
        "1 part could not be tested; it does not count, in either direction.",
    ),
    "probably": T("Waarschijnlijk", "Probably"),
    "seen_service_port": T(
        "{service} op poort {port} ({where})", "{service} on port {port} ({where})"
    ),
    "seen_port": T("poort {port} ({where})", "port {port} ({where})"),
    "probable_note": T(
        "Wat we zagen: alleen een open poort ({seen}), zonder verdere gegevens. Zo'n poort "
        "hoort meestal bij deze dienst, maar zeker is dat niet. Vraag uw IT-leverancier het te "
        "bevestigen.",
        "What we saw: only an open port ({seen}), without further details. Such a port usually "
        "belongs to this service, but that is not certain. Ask your IT supplier to confirm it.",
    ),
    "what_means": T("Wat betekent dit?", "What does this mean?"),
    "what_to_do": T("Wat moet u doen?", "What should you do?"),
    "fix": T("Oplossing", "Fix"),
    "where": T("Waar?", "Where?"),
    "since": T("gezien sinds", "seen since"),
    "severity": T("Ernst", "Severity"),
    "effort": T("Werk", "Effort"),
    "new_badge": T("nieuw", "new"),
    "reopened_badge": T("teruggekomen", "came back"),
    "accepted": T("Aanvaarde risico's", "Accepted risks"),
    "accepted_intro": T(
        "Deze punten hebt u met het Meldpunt besproken en bewust zo gelaten. Ze tellen niet mee "
        "voor uw cijfer.",
        "You discussed these with the Meldpunt and chose to leave them as they are. They do not "
        "count towards your grade.",
    ),
    "accepted_until": T("tot", "until"),
    "appendix": T(
        "Technische bijlage voor uw IT-leverancier", "Technical appendix for your IT supplier"
    ),
    "appendix_intro": T(
        "Dit deel is bedoeld voor wie uw website, e-mail of netwerk beheert. Het bevat de "
        "technische details en het bewijs van elke bevinding.",
        "This part is for whoever manages your website, e-mail or network. It has the technical "
        "details and the evidence of every finding.",
    ),
    "technical": T("Technische uitleg", "Technical explanation"),
    "evidence": T("Bewijs", "Evidence"),
    "detail": T("Detail", "Detail"),
    "first_seen": T("Eerst gezien", "First seen"),
    "last_seen": T("Laatst gezien", "Last seen"),
    "status": T("Status", "Status"),
    "untested": T("Wat we niet konden testen", "What we could not test"),
    "untested_intro": T(
        "Bij de laatste scan kregen we hier geen antwoord. Dat betekent niet dat het in orde "
        "is: we weten het gewoon niet.",
        "At the last scan we got no answer here. That does not mean it is fine: we simply do "
        "not know.",
    ),
    "reason": T("Reden", "Reason"),
    "check": T("Test", "Check"),
    "target": T("Adres", "Address"),
    "confidential": T(
        "Vertrouwelijk: dit rapport is alleen bestemd voor {name}.",
        "Confidential: this report is only for {name}.",
    ),
    "questions": T("Vragen? Neem contact op met", "Questions? Contact"),
    "made_by": T("Gemaakt op {date}", "Made on {date}"),
    "status_open": T("open", "open"),
    "status_accepted": T("aanvaard", "accepted"),
    "status_resolved": T("opgelost", "fixed"),
    "contents": T("Inhoud", "Contents"),
    # --- the area overview ---------------------------------------------------------------------
    "overview_title": T("Overzicht van het havengebied", "Overview of the port area"),
    "overview_intro": T(
        "De stand van de digitale veiligheid van de aangesloten bedrijven, gezien van buitenaf. "
        "Zonder bedrijfsnamen.",
        "The state of digital security of the member companies, seen from the outside. Without "
        "company names.",
    ),
    "overview_intro_named": T(
        "De stand van de digitale veiligheid van de aangesloten bedrijven, gezien van buitenaf. "
        "Met bedrijfsnamen: alleen voor intern gebruik van het Meldpunt.",
        "The state of digital security of the member companies, seen from the outside. With "
        "company names: for the Meldpunt's internal use only.",
    ),
    "companies_scanned": T(
        "{scanned} van {total} bedrijven gescand", "{scanned} of {total} companies scanned"
    ),
    "average_score": T("Gemiddeld aantal punten", "Average points"),
    "latest_scan": T("Laatste scan", "Latest scan"),
    "no_scans": T(
        "Er is nog geen scan gedaan. Dit overzicht wordt gevuld na de eerste scan.",
        "No scan has been done yet. This overview fills up after the first scan.",
    ),
    "by_grade": T("Bedrijven per cijfer", "Companies by grade"),
    "common_problems": T("De meest voorkomende problemen", "The most common problems"),
    "common_problems_intro": T(
        "Hoeveel bedrijven dit probleem hebben.", "How many companies have this problem."
    ),
    "no_problems_area": T("Geen open problemen.", "No open problems."),
    "per_sector": T("Per sector", "By sector"),
    "per_sector_intro": T(
        "Sectoren met minder dan {n} bedrijven zijn samengevoegd onder ‘Overige sectoren’, zodat "
        "niemand herkenbaar is.",
        "Sectors with fewer than {n} companies are combined under ‘Other sectors’, so that no "
        "one can be recognised.",
    ),
    "sector": T("Sector", "Sector"),
    "companies": T("Bedrijven", "Companies"),
    "average": T("Gemiddeld", "Average"),
    "grades": T("Cijfers", "Grades"),
    "top_problem": T(
        "Ernstigste probleem (meest voorkomend)", "Most serious problem (most common)"
    ),
    "other_sectors": T("Overige sectoren", "Other sectors"),
    "unknown_sector": T("Sector onbekend", "Sector unknown"),
    "trend": T("Ontwikkeling over de scans", "Progress over the scans"),
    "trend_intro": T(
        "Gemiddeld aantal punten en cijfers van alle bedrijven na elke scan.",
        "Average points and grades of all companies after each scan.",
    ),
    "trend_one_run": T(
        "Er is pas één scan. Na de volgende scan ziet u hier de ontwikkeling.",
        "There is only one scan so far. After the next scan you will see the progress here.",
    ),
    "scan": T("Scan", "Scan"),
    "date": T("Datum", "Date"),
    "open_findings": T("Open problemen", "Open problems"),
    "critical_companies": T(
        "Bedrijven met een kritiek probleem", "Companies with a critical problem"
    ),
    "company": T("Bedrijf", "Company"),
    "grade": T("Cijfer", "Grade"),
    "score": T("Punten", "Points"),
    "problems": T("Problemen", "Problems"),
    "named_list": T("Alle bedrijven", "All companies"),
    "scan_health": T(
        "Bij de laatste scan konden {n} tests niet worden uitgevoerd.",
        "At the latest scan {n} tests could not be run.",
    ),
    "scan_health_one": T(
        "Bij de laatste scan kon 1 test niet worden uitgevoerd.",
        "At the latest scan 1 test could not be run.",
    ),
    "companies_untested": T(
        "Bij {n} gescande bedrijven kon niets worden getest; zij hebben geen cijfer en tellen "
        "in geen enkel cijfer of gemiddelde mee.",
        "At {n} scanned companies nothing could be tested; they have no grade and count in no "
        "grade or average.",
    ),
    "companies_untested_one": T(
        "Bij 1 gescand bedrijf kon niets worden getest; het heeft geen cijfer en telt in geen "
        "enkel cijfer of gemiddelde mee.",
        "At 1 scanned company nothing could be tested; it has no grade and counts in no grade "
        "or average.",
    ),
    "scanned_label": T("bedrijven gescand", "companies scanned"),
    "internal": T("Intern – niet verspreiden", "Internal – do not distribute"),
    "table_version": T("De cijfers in een tabel", "The figures in a table"),
    # --- the warning e-mail (`exposure warn`; reports/templates/warning.*.j2) -------------------
    "warn_subject_one": T(
        "{urgency}: 1 probleem bij {company} – {meldpunt} ({reference})",
        "{urgency}: 1 problem at {company} – {meldpunt} ({reference})",
    ),
    "warn_subject_many": T(
        "{urgency}: {n} problemen bij {company} – {meldpunt} ({reference})",
        "{urgency}: {n} problems at {company} – {meldpunt} ({reference})",
    ),
    "warn_subject_reminder_one": T(
        "Herinnering – {urgency}: nog 1 probleem bij {company} – {meldpunt} ({reference})",
        "Reminder – {urgency}: 1 problem still open at {company} – {meldpunt} ({reference})",
    ),
    "warn_subject_reminder_many": T(
        "Herinnering – {urgency}: nog {n} problemen bij {company} – {meldpunt} ({reference})",
        "Reminder – {urgency}: {n} problems still open at {company} – {meldpunt} ({reference})",
    ),
    "urgency_critical": T("Dringend, vandaag regelen", "Urgent, act today"),
    "urgency_high": T("Belangrijk", "Important"),
    "urgency_medium": T("Graag regelen", "Please fix"),
    "urgency_low": T("Ter verbetering", "To improve"),
    "warn_first_line": T("Wat we vonden: {what}.", "What we found: {what}."),
    "warn_first_more_one": T("en nog 1 ander probleem", "and 1 more problem"),
    "warn_first_more_many": T("en nog {n} andere problemen", "and {n} more problems"),
    "warn_emergency": T(
        "Dit is dringend. Hulp nodig om het vandaag nog te regelen? Bel {meldpunt} op {phone}: "
        "wij helpen u verder of brengen u in contact met iemand die dat kan.",
        "This is urgent. Need help to deal with it today? Call {meldpunt} on {phone}: we help "
        "you or put you in touch with someone who can.",
    ),
    "warn_change_address": T(
        "Wilt u deze berichten op een ander e-mailadres ontvangen, of wilt u ze niet meer "
        "krijgen? Beantwoord deze e-mail of bel ons; dan passen wij het aan.",
        "Would you like these messages at another e-mail address, or not at all any more? "
        "Reply to this e-mail or call us, and we will change it.",
    ),
    "warn_greeting": T("Beste {company},", "Dear {company},"),
    "warn_intro_one": T(
        "Wij kijken regelmatig van buitenaf naar wat iedereen op internet van uw bedrijf kan "
        "zien: uw website, uw e-mailinstellingen en apparaten die aan internet hangen. Bij onze "
        "controle van {date} vonden we 1 probleem dat u snel moet (laten) regelen.",
        "We regularly look from the outside at what anyone on the internet can see of your "
        "business: your website, your e-mail settings and devices connected to the internet. "
        "In our check of {date} we found 1 problem you should fix, or have fixed, soon.",
    ),
    "warn_intro_many": T(
        "Wij kijken regelmatig van buitenaf naar wat iedereen op internet van uw bedrijf kan "
        "zien: uw website, uw e-mailinstellingen en apparaten die aan internet hangen. Bij onze "
        "controle van {date} vonden we {n} problemen die u snel moet (laten) regelen.",
        "We regularly look from the outside at what anyone on the internet can see of your "
        "business: your website, your e-mail settings and devices connected to the internet. "
        "In our check of {date} we found {n} problems you should fix, or have fixed, soon.",
    ),
    "warn_intro_reminder": T(
        "Eerder schreven wij u over het onderstaande. Bij onze controle van {date} was het nog "
        "niet opgelost. Wilt u het alsnog (laten) regelen? Is het inmiddels gedaan, dan hoeft "
        "u niets te doen: wij zien het bij de volgende controle vanzelf.",
        "We wrote to you about the points below before. In our check of {date} they were not "
        "fixed yet. Could you fix them, or have them fixed? If that has been done in the "
        "meantime, there is nothing you need to do: we will see it at the next check.",
    ),
    "warn_do_first_intro": T(
        "Het belangrijkste eerst. Doet u dit niet zelf, stuur dit bericht dan door aan uw "
        "IT-leverancier of websitebouwer.",
        "The most important first. If you do not do this yourself, forward this message to "
        "your IT supplier or web designer.",
    ),
    "warn_more_actions_one": T(
        "En nog 1 ander probleem; zie hieronder.", "And 1 more problem; see below."
    ),
    "warn_more_actions_many": T(
        "En nog {n} andere problemen; zie hieronder.", "And {n} more problems; see below."
    ),
    "warn_found": T("Wat we vonden", "What we found"),
    "warn_raised": T("eerder {before}, nu {after}", "was {before}, now {after}"),
    "warn_still_open_one": T(
        "Daarnaast staat er nog 1 probleem open waarover we u eerder schreven.",
        "There is also 1 open problem we wrote to you about before.",
    ),
    "warn_still_open_many": T(
        "Daarnaast staan er nog {n} problemen open waarover we u eerder schreven.",
        "There are also {n} open problems we wrote to you about before.",
    ),
    "warn_untested": T(
        "Niet getest bij de laatste controle: {what}. Dat betekent niet dat het daar in orde "
        "is: we weten het niet. We proberen het bij de volgende controle opnieuw.",
        "Not tested in our latest check: {what}. That does not mean it is fine there: we do "
        "not know. We will try again at the next check.",
    ),
    "warn_untested_item": T("{topic} op {host} ({reason})", "{topic} on {host} ({reason})"),
    "warn_untested_more": T("en nog {n} andere", "and {n} more"),
    "warn_it_supplier": T("Voor uw IT-leverancier", "For your IT supplier"),
    "warn_it_supplier_intro": T(
        "Regelt u dit niet zelf? Stuur dit bericht dan door aan wie uw website, e-mail of "
        "netwerk beheert. Dit deel is voor hen: het bevat de technische details.",
        "Not doing this yourself? Forward this message to whoever manages your website, e-mail "
        "or network. This part is for them: it has the technical details.",
    ),
    "warn_genuine": T("Is dit bericht echt?", "Is this message genuine?"),
    "warn_genuine_never": T(
        "Wij vragen nooit om een wachtwoord, een inlogcode of een betaling. Dit bericht heeft "
        "geen bijlagen en geen links om op te klikken.",
        "We never ask for a password, a login code or a payment. This message has no "
        "attachments and no links to click.",
    ),
    "warn_genuine_call": T(
        "Twijfelt u? Bel ons op {phone} en noem het referentienummer {reference}.",
        "In doubt? Call us on {phone} and mention reference number {reference}.",
    ),
    "warn_genuine_lookup": T(
        "Zoek ons telefoonnummer gerust zelf op via {url} (typ het adres zelf in uw browser).",
        "Feel free to look up our phone number yourself at {url} (type the address into your "
        "browser yourself).",
    ),
    "warn_questions": T(
        "Vragen, of hulp nodig? Beantwoord deze e-mail of bel ons.",
        "Questions, or need help? Reply to this e-mail or call us.",
    ),
    "warn_regards": T("Met vriendelijke groet,", "Kind regards,"),
    "warn_why_you": T(
        "U krijgt dit bericht omdat {company} is aangesloten bij {meldpunt}. Wij kijken alleen "
        "van buitenaf, zoals elke bezoeker van internet dat kan; we proberen nergens in te "
        "loggen en breken nergens in.",
        "You receive this message because {company} is a member of {meldpunt}. We only look "
        "from the outside, as any visitor of the internet can; we never try to log in or "
        "break in.",
    ),
    "warn_where": T("Waar:", "Where:"),
    "warn_reference": T("Referentie", "Reference"),
    "warn_phone": T("Telefoon", "Phone"),
    "warn_website": T("Website", "Website"),
    "warn_email": T("E-mail", "E-mail"),
    "warn_portal": T(
        "Uw volledige rapport, altijd bijgewerkt, bekijkt u in ons portaal: {url} (typ het "
        "adres zelf in uw browser en open het met de persoonlijke link die u van ons kreeg).",
        "Your full report, always up to date, is in our portal: {url} (type the address into "
        "your browser yourself and open it with the personal link we gave you).",
    ),
    # --- the portal (`exposure serve`) ---------------------------------------------------------
    "portal_report": T("Rapport", "Report"),
    "portal_history": T("Geschiedenis", "History"),
    "portal_export_json": T("Download (JSON)", "Download (JSON)"),
    "portal_export_csv": T("Download (CSV)", "Download (CSV)"),
    "portal_logout": T("Uitloggen", "Log out"),
    "portal_overview": T("Overzicht van het gebied", "Area overview"),
    "portal_companies": T("Bedrijven", "Companies"),
    "portal_warnings": T("Verzonden waarschuwingen", "Warnings sent"),
    "portal_accept": T("Dit risico aanvaarden", "Accept this risk"),
    "portal_accept_intro": T(
        "Laat u dit bewust zo? Leg kort uit waarom. Het punt blijft zichtbaar, maar telt tot de "
        "einddatum niet mee voor uw cijfer en waarschuwingen.",
        "Leaving this as it is on purpose? Explain briefly why. It stays visible but does not "
        "count for your grade and warnings until the end date.",
    ),
    "portal_reason": T("Reden", "Reason"),
    "portal_until": T("Tot (standaard een jaar)", "Until (default one year)"),
    "portal_accept_button": T("Aanvaarden", "Accept"),
    "portal_accepted_done": T("Het risico is aanvaard.", "The risk has been accepted."),
    "portal_accept_failed": T("Niet opgeslagen: {reason}", "Not saved: {reason}"),
    "portal_when": T("Wanneer", "When"),
    "portal_event": T("Gebeurtenis", "Event"),
    "portal_note": T("Toelichting", "Note"),
    "portal_no_history": T("Nog geen geschiedenis.", "No history yet."),
    "portal_call": T(
        "Vragen? Neem contact op met {name}{contact}.", "Questions? Contact {name}{contact}."
    ),
    "portal_link_expired": T(
        "Deze link is verlopen. Vraag het Meldpunt om een nieuwe link.",
        "This link has expired. Ask the Meldpunt for a new link.",
    ),
    "portal_link_revoked": T(
        "Deze link is ingetrokken. Vraag het Meldpunt om een nieuwe link.",
        "This link has been withdrawn. Ask the Meldpunt for a new link.",
    ),
    "portal_link_unknown": T(
        "Deze link werkt niet. Controleer of u de hele link uit de e-mail hebt gebruikt.",
        "This link does not work. Check that you used the whole link from the e-mail.",
    ),
    "portal_welcome": T(
        "Open uw rapport met de persoonlijke link uit de e-mail van het Meldpunt.",
        "Open your report with the personal link in the Meldpunt's e-mail.",
    ),
    "portal_logged_out": T("U bent uitgelogd.", "You have logged out."),
    "portal_login": T("Inloggen Meldpunt", "Meldpunt log-in"),
    "portal_user": T("Gebruikersnaam", "User name"),
    "portal_password": T("Wachtwoord", "Password"),
    "portal_login_failed": T(
        "Onjuiste gebruikersnaam of wachtwoord.", "Wrong user name or password."
    ),
    "portal_too_many": T(
        "Te veel pogingen. Probeer het over een minuut opnieuw.",
        "Too many attempts. Try again in a minute.",
    ),
    "portal_not_found": T("Deze pagina bestaat niet.", "This page does not exist."),
    "portal_forbidden": T(
        "Dit verzoek is geweigerd. Laad de pagina opnieuw en probeer het nog eens.",
        "This request was refused. Reload the page and try again.",
    ),
    "portal_error": T(
        "Er ging iets mis aan onze kant. Probeer het later opnieuw.",
        "Something went wrong on our side. Please try again later.",
    ),
    "portal_grade": T("Cijfer", "Grade"),
    "portal_never": T("nog niet gescand", "not scanned yet"),
    "portal_untested": T("geen cijfer: niets getest", "no grade: nothing tested"),
}

THEME_TITLE: Mapping[Theme, Text] = {
    Theme.WEBSITE: T("Website en certificaten", "Website and certificates"),
    Theme.EMAIL: T("E-mail", "E-mail"),
    Theme.SECURITYTXT: T(
        "Contact voor beveiligingsmeldingen (security.txt)", "Security contact (security.txt)"
    ),
    Theme.DEVICES: T("Camera's en apparaten", "Cameras and devices"),
    Theme.DOMAIN: T("Domeinnaam", "Domain name"),
}

THEME_INTRO: Mapping[Theme, Text] = {
    Theme.WEBSITE: T(
        "Uw website hoort veilig bereikbaar te zijn via https, met een geldig certificaat. "
        "Anders kunnen gegevens van bezoekers worden meegelezen, of krijgen bezoekers een "
        "waarschuwing en haken ze af.",
        "Your website should be reachable safely over https, with a valid certificate. "
        "Otherwise visitors' data can be read along the way, or visitors get a warning and "
        "leave.",
    ),
    Theme.EMAIL: T(
        "Met de juiste instellingen (SPF, DKIM en DMARC) bepaalt u wie e-mail mag sturen "
        "namens uw bedrijf. Zonder die instellingen kunnen criminelen nepmails sturen die van u "
        "lijken te komen, zoals valse facturen.",
        "With the right settings (SPF, DKIM and DMARC) you decide who may send e-mail on "
        "behalf of your company. Without them, criminals can send fake e-mails that seem to "
        "come from you, such as false invoices.",
    ),
    Theme.SECURITYTXT: T(
        "Een klein bestand op uw website (security.txt) vertelt wie een beveiligingsprobleem "
        "vindt, bij wie hij dat kan melden. Zo hoort u het op tijd.",
        "A small file on your website (security.txt) tells anyone who finds a security "
        "problem whom to report it to. That way you hear about it in time.",
    ),
    Theme.DEVICES: T(
        "Camera's, servers en besturingen die vanaf internet bereikbaar zijn, kan iedereen "
        "vinden. Criminelen gebruiken dat om mee te kijken, in te breken of de zaak stil te "
        "leggen.",
        "Cameras, servers and controllers reachable from the internet can be found by anyone. "
        "Criminals use that to watch, to break in or to bring the business to a halt.",
    ),
    Theme.DOMAIN: T(
        "Uw domeinnaam bepaalt waar uw website en e-mail naartoe gaan. Klopt die niet, dan "
        "werkt er niets, of kan iemand anders zich als u voordoen.",
        "Your domain name decides where your website and e-mail go. If it is wrong, nothing "
        "works, or someone else can pretend to be you.",
    ),
}

#: The order in which reports show the themes (the order of the issue: website first).
THEME_ORDER: tuple[Theme, ...] = (
    Theme.WEBSITE,
    Theme.EMAIL,
    Theme.SECURITYTXT,
    Theme.DEVICES,
    Theme.DOMAIN,
)

OTHER_THEME_TITLE = T("Overige", "Other")

#: Common sector codes of member lists, in words. Unknown codes are shown as they are.
SECTORS: Mapping[str, Text] = {
    "fishing": T("Visserij", "Fishing"),
    "visserij": T("Visserij", "Fishing"),
    "food": T("Voeding", "Food"),
    "maritime": T("Maritiem", "Maritime"),
    "offshore": T("Offshore", "Offshore"),
    "shipyard": T("Scheepsbouw", "Shipbuilding"),
    "logistics": T("Logistiek", "Logistics"),
    "cold_storage": T("Koelhuizen", "Cold storage"),
    "automotive": T("Autobranche", "Automotive"),
    "industry": T("Industrie", "Industry"),
    "leisure": T("Recreatie", "Leisure"),
    "retail": T("Winkels", "Retail"),
    "services": T("Dienstverlening", "Services"),
    "construction": T("Bouw", "Construction"),
}

#: Why a check could not decide, in words an owner can read (FailureReason values).
FAILURE_REASON: Mapping[str, Text] = {
    "timeout": T("geen antwoord binnen de tijd", "no answer in time"),
    "refused": T("verbinding geweigerd", "connection refused"),
    "unreachable": T("niet bereikbaar", "unreachable"),
    "rate_limited": T("te veel verzoeken, later opnieuw", "too many requests, retry later"),
    "dns_error": T("fout bij het opzoeken van de naam", "error looking up the name"),
    "protocol_error": T("onverwacht antwoord", "unexpected answer"),
    "out_of_scope": T("buiten bereik van de scan", "out of the scan's scope"),
    "source_unavailable": T("bron niet beschikbaar", "source unavailable"),
    "deadline": T("scan was niet op tijd klaar", "scan did not finish in time"),
    "local_limit": T(
        "te groot voor de scanner: niet beoordeeld", "too large for the scanner: not judged"
    ),
    "bug": T("fout in de scanner", "error in the scanner"),
}


#: Why a topic or target could not be tested, besides the check's own reasons above
#: (`reports.coverage` codes).
COVERAGE_REASON: Mapping[str, Text] = {
    "not_scanned": T("nog niet gescand", "not scanned yet"),
    "unresolvable": T(
        "de domeinnaam wijst nergens naartoe, dus er is niets te bekijken",
        "the domain name leads nowhere, so there is nothing to look at",
    ),
    "no_domain": T(
        "er is geen domeinnaam van uw bedrijf bij het Meldpunt bekend",
        "the Meldpunt knows no domain name of your company",
    ),
    "no_target": T(
        "er is geen adres van uw bedrijf bekend waarop dit te testen is",
        "no address of your company is known that this can be tested on",
    ),
}


def coverage_reason(reason: str, language: str) -> str:
    """A reason code of `reports.coverage` (or a check's failure reason) in plain words."""
    words = COVERAGE_REASON.get(reason)
    return words.get(language) if words else failure_reason(reason, language)


def ui(key: str, language: str, **values: object) -> str:
    """One UI sentence in `language`, with `{name}` placeholders filled in.

    Values are inserted as plain text; the template's autoescaping escapes the whole result,
    so a company name with markup in it stays text.
    """
    text = UI[key].get(language)
    return text.format(**values) if values else text


def sector_label(sector: str, language: str) -> str:
    """A sector code as words; an unknown code as it was given (templates escape it)."""
    words = SECTORS.get(sector.strip().lower())
    return words.get(language) if words else sector.strip()


def theme_title(theme: Theme | None, language: str) -> str:
    return (THEME_TITLE[theme] if theme is not None else OTHER_THEME_TITLE).get(language)


def theme_intro(theme: Theme | None, language: str) -> str:
    return THEME_INTRO[theme].get(language) if theme is not None else ""


def failure_reason(reason: str, language: str) -> str:
    words = FAILURE_REASON.get(reason)
    return words.get(language) if words else reason
