"""Benign template grammars: realistic and deliberately hard.

Hard on purpose: names with apostrophes, prose that mentions SQL or ``<script>``, documentation
with shell commands, code snippets from forum posts, XML without DTDs, template-like braces,
URLs with query strings, legitimate file paths, markdown, math (``1=1``), MongoDB-looking JSON
filters without operators, LDAP distinguished names in directory UIs, multi-line text.
Each entry is ``(name, template, wrappable)``; wrappable values may be put into a query/JSON/
form/header carrier like attack values are, structured ones (bodies, URLs) stay bare.
``BENIGN_WEIGHTS`` makes the hard look-alike templates more frequent than the plain ones.
"""

from __future__ import annotations

import json
import random

from optimizer.tasks.corpus.common import (
    FIRST_NAMES,
    LAST_NAMES,
    PUBLIC_HOSTS,
    WORDS,
    Template,
    pick,
    rand_hex,
    rand_int,
    rand_name,
    rand_word,
    vpick,
)

_APOS_NAMES = ("O'Brien", "D'Angelo", "O'Connor", "D'Souza", "O'Neil", "L'Oréal", "N'Diaye",
               "Dell'Acqua", "O'Hara", "D'Arcy", "McDonald's", "Ng'ang'a")


def search_query(r: random.Random) -> str:
    n = r.randint(1, 5)
    q = " ".join(pick(r, WORDS) for _ in range(n))
    return vpick(r, (q, q.title(), f"{q} near me", f"how to {q}", f"\"{q}\"",
                     f"{q} -{rand_word(r)}",
                     f"{q} site:{pick(r, PUBLIC_HOSTS)}", f"{q} under ${rand_int(r, 10, 500)}"))


def person_name(r: random.Random) -> str:
    first = pick(r, FIRST_NAMES)
    return vpick(r, (f"{first} {pick(r, _APOS_NAMES)}", pick(r, _APOS_NAMES), rand_name(r),
                     f"{pick(r, _APOS_NAMES)}, {first}",
                     f"Dr. {first} {pick(r, LAST_NAMES)}-{pick(r, LAST_NAMES)}",
                     f"{first} \"{pick(r, ('Bobby', 'Kit', 'Max'))}\" {pick(r, LAST_NAMES)}"))


def email_address(r: random.Random) -> str:
    first, last = pick(r, FIRST_NAMES).lower(), pick(r, LAST_NAMES).lower().replace("ü", "ue")
    dom = pick(r, ("example.com", "mail.example.org", "corp.example.net", "uni.example.edu"))
    return vpick(r, (f"{first}.{last}@{dom}", f"{first}+{rand_word(r)}@{dom}",
                     f"{first[0]}{last}{rand_int(r, 1, 99)}@{dom}",
                     f"o'{last}@{dom}", f"\"{first} {last}\" <{first}@{dom}>"))


_OPENERS = ("", "", "Hi all, ", "Quick question: ", "Re: ", "Newbie here. ", "Update: ",
            "Sorry if this is obvious: ", "From the docs: ")
_CLOSERS = ("", "", " Thanks!", " Any ideas?", " (asked on the forum)", " TIA", " :)",
            " -- see ticket #{n}")


def _chat(r: random.Random, text: str) -> str:
    """Forum/ticket framing around a sentence (varies the text, keeps it benign)."""
    return (pick(r, _OPENERS) + text + pick(r, _CLOSERS)).replace("{n}", str(rand_int(r)))


def prose_security(r: random.Random) -> str:
    return _chat(r, vpick(r, (
        "Our WAF blocked a request with ../ in the filename, is that expected?",
        "How do we prevent SSRF when customers give us a webhook URL?",
        "In MongoDB, $ne matches documents where the field is not equal to the value.",
        "Escape * ( ) and \\ in LDAP search filters as described in RFC 4515.",
        "Log4j before 2.17 was vulnerable through ${jndi:} lookups; we upgraded last week.",
        "CRLF means carriage return plus line feed, written \\r\\n in most languages.",
        "Disable DTD processing in the XML parser to rule out XXE.",
        "Jinja2 autoescaping renders {{ comment }} safely, do not mark it |safe.",
        "The pattern %2e%2e%2f in our logs is just an encoded ../ probe, right?",
        "Use shlex.quote() before passing a filename to subprocess.",
        "Is 169.254.169.254 reachable from our containers? IMDSv2 is enforced.",
        "Why does the scanner flag every field that contains a single quote?")))


def prose_sql(r: random.Random) -> str:
    t = pick(r, ("users", "orders", "customers", "invoices"))
    return _chat(r, vpick(r, (f"How do I use SELECT with JOIN on the {t} table?",
                    f"Why is my query SELECT * FROM {t} WHERE id = 5 so slow?",
                    "What's the difference between UNION and UNION ALL in Postgres?",
                    "I dropped a table by mistake, can I undo DROP TABLE in MySQL?",
                    f"Should I add an index on {t}.created_at for ORDER BY queries?",
                    "Use parameterized queries instead of string concatenation "
                    "to avoid SQL injection.",
                    "Our DBA says OR conditions prevent index use; is that still true in 8.0?",
                    f"Exported the {t} report with GROUP BY region, numbers look off",
                    f"Can I DELETE FROM {t} WHERE created_at < '2020-01-01' in batches?",
                    "Is SELECT 1 a good health check query for the pool?")))


def prose_html(r: random.Random) -> str:
    return _chat(r, vpick(r, ("The <script> tag goes in the head or at the end of the body.",
                    "Is it bad practice to use onclick attributes instead of addEventListener?",
                    "In HTML5 you can drop type=\"text/javascript\" from script elements.",
                    "My <img> tags show a broken icon when the src is wrong; how to add alt text?",
                    "Use &lt;br&gt; for line breaks and &amp; for ampersands in HTML.",
                    "The alert() function blocks the page, use a toast component instead.",
                    "Why does my iframe not load content from another domain?",
                    "Put the <meta charset=\"utf-8\"> line first inside <head>.",
                    "document.cookie is empty because the cookie is HttpOnly.")))


def prose_shell(r: random.Random) -> str:
    return _chat(r, vpick(r, ("Run ls -la to list hidden files too.",
                    "To check disk usage type df -h and du -sh * in the folder.",
                    f"Install it with pip install {rand_word(r)}-tools && restart the service.",
                    "cd .. goes one directory up; cd ~ goes home.",
                    "Use grep -r 'TODO' src/ | wc -l to count TODOs.",
                    "The cron line is 0 3 * * * /usr/local/bin/backup.sh",
                    "On Windows use dir /s instead of find.",
                    "Pipe the output: cat access.log | sort | uniq -c",
                    "Add export PATH=$HOME/bin:$PATH to your ~/.bashrc",
                    "Kill it with kill -9 $(pgrep node) if it hangs.")))


def code_snippet(r: random.Random) -> str:
    v = rand_word(r)
    return vpick(r, (f"for (let i = 0; i < {v}.length; i++) {{ console.log({v}[i]); }}",
                     f"def {v}(x):\n    return x * 2\n",
                     "cursor.execute(\"SELECT name FROM users WHERE id = %s\", (user_id,))",
                     f"const {v} = document.getElementById('{v}');",
                     f"```python\nprint(sum(range({rand_int(r, 5, 100)})))\n```",
                     f"if (a == b && c != d) {{ return {v}; }}",
                     "SELECT COUNT(*) FROM orders WHERE status = 'shipped';",
                     f"$ git commit -m \"fix {v} parsing\""))


def url_with_query(r: random.Random) -> str:
    h = pick(r, PUBLIC_HOSTS)
    return vpick(r, (f"https://{h}/search?q={rand_word(r)}+{rand_word(r)}&page={rand_int(r, 1, 9)}",
                     f"https://{h}/products/{rand_int(r)}?color={pick(r, ('red', 'blue'))}&size=M",
                     f"https://{h}/{rand_word(r)}/{rand_word(r)}.html#section-{rand_int(r, 1, 9)}",
                     f"http://{h}/img/{rand_hex(r, 8)}.jpg?w=640&h=480",
                     f"https://{h}/oauth/callback?code={rand_hex(r, 16)}&state={rand_hex(r, 8)}",
                     f"/account/orders?from=2025-0{r.randint(1, 9)}-01&to=2025-12-31"))


def file_path(r: random.Random) -> str:
    return vpick(r, (f"docs/reports/2025/q{r.randint(1, 4)}-summary.pdf",
                     f"/static/img/{rand_word(r)}-logo.png",
                     f"uploads/{rand_int(r)}/avatar.jpg",
                     f"C:\\Users\\{pick(r, FIRST_NAMES)}\\Documents\\cv.docx",
                     f"assets/css/{rand_word(r)}.min.css",
                     f"/home/{pick(r, FIRST_NAMES).lower()}/projects/{rand_word(r)}/README.md",
                     f"{rand_word(r)}_{rand_word(r)}.csv",
                     f"./src/components/{rand_word(r).title()}.tsx",
                     f"images/2024/{r.randint(1, 12):02d}/{rand_word(r)}.webp"))


def json_body(r: random.Random) -> str:
    obj = vpick(r, (
        {"name": rand_name(r), "email": f"{rand_word(r)}@example.com",
         "newsletter": r.random() < 0.5},
        {"order_id": rand_int(r), "items": [{"sku": rand_hex(r, 6), "qty": rand_int(r, 1, 5)}],
         "currency": "EUR"},
        {"query": rand_word(r), "filters": {"status": "active", "price": {"min": 10, "max": 99}},
         "sort": "price"},
        {"comment": f"Great {rand_word(r)}, would buy again!", "rating": r.randint(1, 5)},
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"},
        {"username": pick(r, FIRST_NAMES).lower(), "password": f"{rand_word(r)}{rand_int(r)}!"},
        {"event": "page_view", "path": f"/{rand_word(r)}", "ts": 1700000000 + rand_int(r, 0,
                                                                                       10**7)}))
    return json.dumps(obj, ensure_ascii=False, separators=pick(r, ((",", ":"), (", ", ": "))))


def markdown_text(r: random.Random) -> str:
    return vpick(r, (f"## {rand_word(r).title()} notes\n\n- item one\n- item **two**\n",
                     f"See [the docs](https://{pick(r, PUBLIC_HOSTS)}/guide) for details.",
                     f"> quoted reply\n\nThanks {pick(r, FIRST_NAMES)}! "
                     f"Use `--verbose` for more output.",
                     "| col | value |\n|---|---|\n| a | 1 |",
                     f"![screenshot](/uploads/{rand_hex(r, 6)}.png)"))


def xml_document(r: random.Random) -> str:
    return vpick(r,
                 (f'<?xml version="1.0" encoding="UTF-8"?><order id="{rand_int(r)}">'
                  f'<item sku="{rand_hex(r, 6)}" '
                    f'qty="{rand_int(r, 1, 9)}"/></order>',
                    f"<note><to>{pick(r, FIRST_NAMES)}</to><from>{pick(r, FIRST_NAMES)}</from>"
                    f"<body>Don't forget the {rand_word(r)}!</body></note>",
                    f'<?xml version="1.0"?><rss version="2.0">'
                    f'<channel><title>{rand_word(r).title()} news'
                    "</title></channel></rss>",
                    f"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
                    f"<GetPrice><Item>{rand_word(r)}</Item></GetPrice></soap:Body></soap:Envelope>",
                    f'<svg xmlns="http://www.w3.org/2000/svg" width="{rand_int(r, 16, 64)}" '
                    f'height="16">'
                    '<circle cx="8" cy="8" r="4"/></svg>'))


def template_braces(r: random.Random) -> str:
    return vpick(r, ("Hello {name}, your order has shipped!",
                     f"Dear {{first_name}}, welcome to {rand_word(r)}",
                     "Use {{ variable }} placeholders in the email subject",
                     "Total: ${price} incl. VAT",
                     "Set PATH=${HOME}/bin:${PATH} in your profile", "f\"{user}: {count} items\"",
                     f"Ticket #{rand_int(r)}: template shows {{{{order.total}}}} literally",
                     "My budget is $100-${max} depending on reviews"))


def math_dates(r: random.Random) -> str:
    a = rand_int(r, 1, 99)
    return vpick(r, ("1=1 is trivially true", f"{a} > {a - 1} and {a} < {a + 1}",
                     f"x = {a}; y = x * 2",
                     f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                     f"{r.randint(1, 28)}/{r.randint(1, 12)}/2025"
                     f" {r.randint(0, 23):02d}:{r.randint(0, 59):02d}",
                     f"{a}% off -- today only", f"between {a} and {a + 10} or more", "a || b && !c",
                     f"price>={a}&price<={a * 3}"))


def _user_agents(r: random.Random) -> tuple[str, ...]:
    chrome, safari, ff = r.randint(110, 131), r.randint(0, 6), r.randint(115, 133)
    return (
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{chrome}.0.0.0 Safari/537.36",
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_{safari}) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        f"Mozilla/5.0 (X11; Linux x86_64; rv:{ff}.0) Gecko/20100101 Firefox/{ff}.0",
        f"curl/8.{r.randint(0, 9)}.0", f"python-requests/2.{r.randint(25, 32)}.0")


def user_agent(r: random.Random) -> str:
    return vpick(r, _user_agents(r))


def request_header(r: random.Random) -> str:
    """Whole header lines as a WAF logs them (attacks appear in headers too)."""
    return vpick(r, (
        f"User-Agent: {pick(r, _user_agents(r))}",
        f"Referer: https://{pick(r, PUBLIC_HOSTS)}/{rand_word(r)}?page={rand_int(r, 1, 9)}",
        f"Accept-Language: {pick(r, ('en-US,en;q=0.9', 'de-DE,de;q=0.8,en;q=0.5', 'fr-FR'))}",
        f"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.{rand_hex(r, 24)}.{rand_hex(r, 16)}",
        f"Cookie: session={rand_hex(r, 16)}; theme={pick(r, ('dark', 'light'))}; lang=en",
        f"X-Forwarded-For: 10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
        "Content-Type: application/json; charset=utf-8",
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        f'If-None-Match: W/"{rand_hex(r, 16)}"'))


def form_body(r: random.Random) -> str:
    n = pick(r, FIRST_NAMES)
    return vpick(r, (f"name={n}&email={n.lower()}%40example.com&message=Hi+there",
                     f"username={n.lower()}&password={rand_word(r)}{rand_int(r)}&remember=on",
                     f"qty={rand_int(r, 1, 5)}&sku={rand_hex(r, 6)}"
                     f"&coupon=SAVE{rand_int(r, 5, 30)}",
                     f"address=12+Main+St.&city={pick(r, ('Paris', 'Berlin', 'Austin'))}"
                     f"&zip={rand_int(r, 10000, 99999)}"))


def review_text(r: random.Random) -> str:
    w = rand_word(r)
    return vpick(r, (f"I love this {w}! It's the best I've bought.",
                     f"Don't buy the {w}; it broke after a week :(",
                     f"5/5 -- would recommend to anyone who's into {w}.",
                     f"Shipping was fast & the {w} works great",
                     "Can't select the size drop-down on mobile, it's greyed out.",
                     "Where's the 'delete account' option? Can't find it anywhere."))


def tokens_ids(r: random.Random) -> str:
    return vpick(r,
                 (f"{rand_hex(r, 8)}-{rand_hex(r, 4)}-4{rand_hex(r, 3)}"
                  f"-a{rand_hex(r, 3)}-{rand_hex(r, 12)}",
                    f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ{rand_hex(r, 10)}.{rand_hex(r, 20)}",
                    f"sess_{rand_hex(r, 24)}", f"ORD-{rand_int(r)}-{rand_hex(r, 4).upper()}",
                    f"W/\"{rand_hex(r, 16)}\"", f"en-US,en;q=0.{r.randint(5, 9)}"))


def ldap_dn_display(r: random.Random) -> str:
    n, ln = pick(r, FIRST_NAMES), pick(r, LAST_NAMES)
    return vpick(r, (f"cn={n} {ln},ou=People,dc=example,dc={pick(r, ('com', 'org'))}",
                     f"Search the directory for {n} (department: Sales)",
                     f"{n.lower()}.{ln.lower()}",
                     "memberOf: cn=staff,ou=Groups,dc=example,dc=com"))


def multiline_text(r: random.Random) -> str:
    n = pick(r, FIRST_NAMES)
    return vpick(r, (f"Hi team,\r\nthe {rand_word(r)} release is on Friday.\r\nThanks, {n}",
                     f"Line one\nLine two\nLine three -- {rand_word(r)}",
                     f"Address:\n{rand_int(r, 1, 200)} {pick(r, LAST_NAMES)} Road"
                     f"\n{pick(r, ('Leeds', 'Cork', 'Oslo'))}"))


def phone_address(r: random.Random) -> str:
    return vpick(r,
                 (f"+1 ({rand_int(r, 200, 999)}) {rand_int(r, 200, 999)}-{rand_int(r, 1000, 9999)}",
                    f"+44 20 {rand_int(r, 1000, 9999)} {rand_int(r, 1000, 9999)}",
                    f"{rand_int(r, 1, 300)} {pick(r, LAST_NAMES)} St., Apt #{rand_int(r, 1, 40)}",
                    f"PO Box {rand_int(r, 100, 9999)}; {pick(r, ('Dublin', 'Lyon', 'Graz'))}"))


BENIGN_TEMPLATES: list[tuple[str, Template, bool]] = [
    ("prose_security", prose_security, True),
    ("search_query", search_query, True), ("person_name", person_name, True),
    ("email_address", email_address, True), ("prose_sql", prose_sql, True),
    ("prose_html", prose_html, True), ("prose_shell", prose_shell, True),
    ("code_snippet", code_snippet, False), ("url_with_query", url_with_query, False),
    ("file_path", file_path, True), ("json_body", json_body, False),
    ("markdown_text", markdown_text, False), ("xml_document", xml_document, False),
    ("template_braces", template_braces, True), ("math_dates", math_dates, True),
    ("user_agent", user_agent, False), ("form_body", form_body, False),
    ("request_header", request_header, False),
    ("review_text", review_text, True), ("tokens_ids", tokens_ids, True),
    ("ldap_dn_display", ldap_dn_display, True), ("multiline_text", multiline_text, False),
    ("phone_address", phone_address, True),
]

BENIGN_WEIGHTS: dict[str, float] = {
    "prose_security": 3.0, "prose_sql": 2.0, "prose_html": 2.0, "prose_shell": 2.0,
    "person_name": 1.5, "code_snippet": 1.5, "template_braces": 1.5, "math_dates": 1.5,
    "ldap_dn_display": 0.6, "phone_address": 0.6, "tokens_ids": 0.6, "multiline_text": 0.7,
}
