"""A labelled set of linking pages for the toxic audit, generated (seeded, so every run is the same).

Each sample is one linking domain with one or more pages (HTML as a site would
serve it), our backlinks from it, an address, and a label: ``True`` when a
person auditing the profile would disavow it. The kinds overlap on purpose, so
that no one signal separates them: benign directories link out as much as some
farms, benign news sites sit under abused TLDs and mention casinos, benign
blogs share a /24 at a cheap host, forum users use money anchors, foreign blogs
are foreign, responsive menus hide a copy of a link; and toxic pages include
hacked pages with good prose and a hidden link only, and private blog networks
with decent content.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from linkcrawler.toxicity.score import LinkFacts

OUR = "https://www.trailgear.example/"
TARGETS = [OUR, OUR + "shoes/", OUR + "jackets/", OUR + "blog/waterproofing-guide"]
MONEY_TERMS = ["cheap hiking boots", "best trail running shoes", "buy hiking gear online"]

TOPICS = {
    "hiking": ["trail", "ridge", "boots", "map", "summit", "pack", "rain", "campsite", "valley", "compass"],
    "cooking": ["recipe", "oven", "garlic", "dough", "sauce", "pan", "butter", "herbs", "flour", "dinner"],
    "travel": ["train", "museum", "hostel", "harbour", "ferry", "market", "old town", "bridge", "café", "route"],
    "tech": ["laptop", "battery", "firmware", "screen", "keyboard", "update", "charger", "router", "cable", "app"],
    "garden": ["tomatoes", "compost", "seeds", "hedge", "soil", "roses", "shed", "watering", "beds", "frost"],
}
TEMPLATES = [
    "Last {day} we took the {a} along the {b}, and it was better than we expected.",
    "The {a} matters more than most people think, especially when the {b} changes quickly.",
    "I have been comparing {a} options for a while, and the {b} made the real difference.",
    "Our readers asked how to choose a {a}; the short answer depends on the {b} you have.",
    "After three weeks with the {a}, the {b} still holds up, which surprised everyone here.",
    "If you only read one thing about the {a}, make it the part about the {b} below.",
    "We wrote down every mistake we made with the {a}, so you can skip straight to the {b}.",
    "A friend recommended a different {a}, but the {b} convinced us to stay with our choice.",
    "Nobody tells you that the {a} needs care, or that the {b} can ruin a good weekend.",
    "The old {a} finally gave up, so this post is about what we learned choosing the {b}.",
]
DAYS = ["Monday", "Tuesday", "Saturday", "Sunday", "weekend", "morning"]
FOREIGN = {
    "de": ["Letztes Wochenende sind wir über den Grat gewandert und das Wetter war besser als erwartet.",
           "Die richtigen Schuhe machen einen großen Unterschied, besonders wenn es regnet.",
           "Wir haben drei Rucksäcke verglichen und erklären hier, welcher uns am besten gefallen hat.",
           "Viele Leser haben gefragt, wie man eine Jacke richtig imprägniert und pflegt.",
           "Nach drei Wochen im Gebirge können wir sagen, dass sich die Investition gelohnt hat."],
    "fr": ["Le week-end dernier, nous avons marché sur la crête et le temps était meilleur que prévu.",
           "Les bonnes chaussures font une vraie différence, surtout quand il pleut.",
           "Nous avons comparé trois sacs à dos et nous expliquons ici lequel nous a le plus plu.",
           "Beaucoup de lecteurs nous ont demandé comment imperméabiliser et entretenir une veste.",
           "Après trois semaines en montagne, nous pouvons dire que l'investissement valait la peine."],
    "es": ["El fin de semana pasado caminamos por la cresta y el tiempo fue mejor de lo esperado.",
           "Unas buenas botas marcan una gran diferencia, sobre todo cuando llueve.",
           "Comparamos tres mochilas y aquí explicamos cuál nos gustó más y por qué.",
           "Muchos lectores nos preguntaron cómo impermeabilizar y cuidar una chaqueta.",
           "Después de tres semanas en la montaña podemos decir que la inversión valió la pena."],
    "pl": ["W zeszły weekend szliśmy granią i pogoda była lepsza, niż się spodziewaliśmy.",
           "Dobre buty robią ogromną różnicę, zwłaszcza gdy pada deszcz.",
           "Porównaliśmy trzy plecaki i wyjaśniamy tutaj, który podobał nam się najbardziej.",
           "Wielu czytelników pytało, jak zaimpregnować kurtkę i jak o nią dbać.",
           "Po trzech tygodniach w górach możemy powiedzieć, że ta inwestycja się opłaciła."],
    "ru": ["В прошлые выходные мы прошли по хребту, и погода была лучше, чем мы ожидали.",
           "Хорошая обувь имеет огромное значение, особенно когда идёт дождь.",
           "Мы сравнили три рюкзака и рассказываем здесь, какой понравился нам больше всего.",
           "Многие читатели спрашивали, как пропитать куртку и как за ней ухаживать.",
           "После трёх недель в горах можно сказать, что эти вложения окупились."],
}
SPAM = {
    "casino": ["Play at the best online casino with free spins and a no deposit bonus today.",
               "Slots, roulette and blackjack: the jackpot is waiting at our casino.",
               "Sportsbook betting odds updated hourly, casino bonus for new players.",
               "Win the jackpot with free spins on the most popular slots in the casino."],
    "pharma": ["Buy viagra and cialis online pharmacy without prescription, discreet delivery.",
               "Cheap pills, no prescription needed, tramadol and xanax shipped overnight.",
               "Diet pills and phentermine at the lowest price from our online pharmacy."],
    "loans": ["Payday loans approved in minutes, bad credit loans and cash advance for everyone.",
              "Need money now? Instant loan and quick loans, payday loan with no checks."],
    "replica": ["Replica watches and replica handbags, fake rolex of the best quality.",
                "Cheap replica designer bags, counterfeit free shipping worldwide."],
}


def prose(rng: random.Random, topic: str, sentences: int) -> str:
    words = TOPICS[topic]
    out = []
    for _ in range(sentences):
        a, b = rng.sample(words, 2)
        out.append(rng.choice(TEMPLATES).format(day=rng.choice(DAYS), a=a, b=b))
    return " ".join(out)


def paragraphs(rng: random.Random, topic: str, count: int, per: tuple[int, int] = (4, 7)) -> str:
    return "".join(f"<p>{prose(rng, topic, rng.randint(*per))}</p>" for _ in range(count))


def foreign(rng: random.Random, language: str, count: int) -> str:
    pool = FOREIGN[language]
    return "".join(f"<p>{' '.join(rng.sample(pool, len(pool)))}</p>" for _ in range(count))


def spam_text(rng: random.Random, kinds: list[str], count: int) -> str:
    return "".join(f"<p>{rng.choice(SPAM[rng.choice(kinds)])}</p>" for _ in range(count))


def outbound(rng: random.Random, count: int, prefix: str = "site") -> str:
    tlds = ["com", "net", "org", "info", "co.uk", "de", "io"]
    return "\n".join(f'<li><a href="https://{prefix}{rng.randint(1, 10**6)}.{rng.choice(tlds)}/">'
                     f'{rng.choice(["Resource", "Partner", "Homepage", "Shop", "Blog", "Guide"])} {i}</a></li>'
                     for i in range(count))


def nav(domain: str) -> str:
    items = ["Home", "About", "Archive", "Contact", "Categories"]
    return "<nav><ul>" + "".join(f'<li><a href="https://{domain}/{i.lower()}">{i}</a></li>' for i in items) + "</ul></nav>"


def document(title: str, body: str, domain: str, head: str = "", lang: str = "en") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body>{nav(domain)}<main>{body}</main><footer><p>&copy; 2026 {domain}</p></footer></body></html>")


def our_link(rng: random.Random, anchor: str, attrs: str = "") -> str:
    return f'<a href="{rng.choice(TARGETS)}"{attrs}>{anchor}</a>'


@dataclass
class Sample:
    domain: str
    label: bool
    kind: str
    pages: dict[str, str] = field(default_factory=dict)
    """URL -> HTML."""
    links: list[LinkFacts] = field(default_factory=list)
    address: str = ""


BRAND_ANCHORS = ["TrailGear", "trailgear.example", "this guide", "their boots review", "here", "TrailGear's shop",
                 "a waterproofing guide", "this shop", "read more"]


def _sample(domain: str, label: bool, kind: str, address: str, pages: list[tuple[str, str, str]]) -> Sample:
    """``pages``: (path, html, anchor)."""
    sample = Sample(domain, label, kind, address=address)
    for path, html, anchor in pages:
        url = f"https://{domain}{path}"
        sample.pages[url] = html
        sample.links.append(LinkFacts(url, anchor))
    return sample


def build_corpus(seed: int = 15) -> list[Sample]:
    rng = random.Random(seed)
    samples: list[Sample] = []
    counter = iter(range(1, 10_000))

    def address(network: str | None = None) -> str:
        if network:
            return f"{network}.{rng.randint(2, 250)}"
        return f"{rng.randint(11, 220)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def name(words: list[str], tld: str = "com") -> str:
        return f"{'-'.join(rng.sample(words, rng.choice([1, 2])))}{next(counter)}x.{tld}".replace("1x", "x")

    # --- benign ------------------------------------------------------------------------
    blog_words = ["wander", "notes", "kitchen", "trails", "journal", "daily", "mountain", "home", "garden", "bits"]
    for _ in range(45):  # personal blogs, a few with a passing mention of a poison word
        topic = rng.choice(list(TOPICS))
        if rng.random() < 0.35:  # people name blogs "my-trail-notes" too
            domain = f"my-{rng.choice(blog_words)}-{rng.choice(blog_words)}-{next(counter)}.{rng.choice(['com', 'net'])}"
        else:
            domain = f"{rng.choice(blog_words)}{rng.choice(blog_words)}{next(counter)}.{rng.choice(['com', 'net', 'org', 'blog'])}"
        body = paragraphs(rng, topic, rng.randint(3, 7))
        if rng.random() < 0.2:
            body += "<p>On the way back we passed the old casino by the harbour, now a museum.</p>"
        anchor = rng.choice(BRAND_ANCHORS)
        body += f"<p>We bought ours after reading {our_link(rng, anchor)}.</p>"
        body += "<ul>" + outbound(rng, rng.randint(2, 15), "friend") + "</ul>"
        samples.append(_sample(domain, False, "blog", address(), [("/2026/05/post", document(f"{topic} notes", body, domain), anchor)]))
    for i in range(30):  # news: long, link-heavy sidebars, some about gambling law, a few under .online/.club
        domain = f"{rng.choice(['daily', 'city', 'valley', 'coast'])}{rng.choice(['herald', 'news', 'post', 'times'])}" \
                 f"{rng.choice(['', '24-7', '365', '-1987'])}{i}.{rng.choice(['com', 'com', 'co.uk', 'online', 'club', 'news'])}"
        body = paragraphs(rng, rng.choice(list(TOPICS)), rng.randint(6, 10), (6, 9))
        if i % 5 == 0:
            body += ("<p>The council will vote on the casino licence next month; opponents say the casino would "
                     "change the harbour. The casino operator declined to comment.</p>")
        body += f"<p>Outdoor retailer {our_link(rng, 'TrailGear')} reported strong sales.</p>"
        body += "<aside><ul>" + outbound(rng, rng.randint(10, 60), "agency") + "</ul></aside>"
        samples.append(_sample(domain, False, "news", address(), [(f"/news/{i}", document("Local news", body, domain), "TrailGear")]))
    for i in range(15):  # curated directories and resource pages: many outbound domains, little prose
        domain = f"outdoor-resources{i}.org" if i % 2 else f"hikingdirectory{i}.com"
        body = f"<h1>Outdoor resources</h1><p>{prose(rng, 'hiking', 2)}</p><ul>{outbound(rng, rng.randint(45, 140))}"
        body += f"<li>{our_link(rng, 'TrailGear - boots and jackets')}</li></ul>"
        samples.append(_sample(domain, False, "directory", address(), [("/links", document("Resources", body, domain),
                                                                           "TrailGear - boots and jackets")]))
    languages = list(FOREIGN)
    for i in range(15):  # foreign-language blogs that genuinely like us
        language = languages[i % len(languages)]
        domain = f"bergblog{i}.{ {'de': 'de', 'fr': 'fr', 'es': 'es', 'pl': 'pl', 'ru': 'ru'}[language] }"
        body = foreign(rng, language, rng.randint(1, 4)) + f"<p>{our_link(rng, 'TrailGear')}</p>"
        html = document("Blog", body, domain, lang=language)
        samples.append(_sample(domain, False, "foreign blog", address(), [("/artikel", html, "TrailGear")]))
    for i in range(5):  # noindexed tag pages of good blogs
        domain = f"wanderlust{i}.net"
        body = paragraphs(rng, "travel", 3) + f"<p>{our_link(rng, 'this guide')}</p>"
        head = '<meta name="robots" content="noindex,follow">'
        html = document("Tag: boots", body, domain, head)
        samples.append(_sample(domain, False, "noindex tag page", address(), [("/tag/boots", html, "this guide")]))
    for cluster in range(3):  # small blogs at one cheap host: three per /24
        network = f"185.{10 + cluster}.{100 + cluster}"
        for j in range(3):
            domain = f"hostedblog{cluster}{j}.com"
            body = paragraphs(rng, rng.choice(list(TOPICS)), rng.randint(3, 5)) + f"<p>{our_link(rng, 'TrailGear')}</p>"
            html = document("Post", body, domain)
            samples.append(_sample(domain, False, "shared host", address(network), [("/post", html, "TrailGear")]))
    for i in range(12):  # forum threads where users paste money anchors
        domain = f"hikersforum{i}.com"
        body = paragraphs(rng, "hiking", rng.randint(3, 6), (3, 5))
        anchor = rng.choice(MONEY_TERMS)
        body += f"<p>Anyone tried these? {our_link(rng, anchor, ' rel=ugc')}</p>"
        samples.append(_sample(domain, False, "forum", address(), [(f"/t/{i}", document("Forum", body, domain), anchor)]))
    for i in range(5):  # radio stations and shops with digits in their names
        domain = f"radio{rng.randint(100, 999)}fm{i}.com"
        body = paragraphs(rng, "tech", 3) + f"<p>Sponsor: {our_link(rng, 'TrailGear')}</p>"
        samples.append(_sample(domain, False, "digits in name", address(), [("/", document("Radio", body, domain), "TrailGear")]))
    for i in range(3):  # responsive menus: a hidden copy of a visible link
        domain = f"gearreviews{i}.com"
        body = (paragraphs(rng, "hiking", 4) + f"<p>{our_link(rng, 'TrailGear')}</p>"
                f'<div class="mobile-menu" style="display:none"><a href="{OUR}">TrailGear</a></div>')
        samples.append(_sample(domain, False, "mobile menu", address(), [("/review", document("Review", body, domain), "TrailGear")]))

    # --- toxic -------------------------------------------------------------------------
    spam_tlds = ["xyz", "top", "icu", "club", "online", "site", "com", "info", "net"]
    for i in range(25):  # link farms: hundreds of outbound domains, thin, odd names
        tld = rng.choice(spam_tlds)
        if rng.random() < 0.5:
            domain = (f"{rng.choice(['best', 'top', 'seo', 'free'])}-{rng.choice(['links', 'directory', 'web'])}"
                      f"-{rng.randint(10, 9999)}.{tld}")
        else:
            domain = f"{rng.choice(['link', 'web', 'site', 'url'])}{rng.choice(['index', 'list', 'portal', 'hub'])}{i}.{tld}"
        body = f"<h1>Links</h1><ul>{outbound(rng, rng.randint(100, 320), 'web')}"
        anchor = rng.choice([*MONEY_TERMS, "TrailGear", "hiking"])
        body += f"<li>{our_link(rng, anchor)}</li></ul>"
        if rng.random() < 0.4:
            body = spam_text(rng, ["casino", "loans"], 2) + body
        samples.append(_sample(domain, True, "link farm", address(), [("/links.html", document("Links", body, domain), anchor)]))
    for i in range(20):  # hacked pages: good prose, a hidden link to us
        domain = f"{rng.choice(blog_words)}-{rng.choice(['club', 'society', 'studio'])}{i}.{rng.choice(['org', 'com', 'net'])}"
        style = rng.choice(["display:none", "visibility:hidden", "position:absolute;left:-9999px", "font-size:0",
                            "height:0;overflow:hidden", "opacity:0"])
        anchor = rng.choice([*MONEY_TERMS, "hiking boots", "boots"])
        body = paragraphs(rng, rng.choice(list(TOPICS)), rng.randint(3, 6))
        body += f'<div style="{style}">{our_link(rng, anchor)}</div>'
        samples.append(_sample(domain, True, "hidden link", address(), [("/about", document("About us", body, domain), anchor)]))
    for i in range(25):  # spam pages: casino, pharma, loans, replicas
        tld = rng.choice(spam_tlds)
        number = str(rng.randint(100, 999)) if rng.random() < 0.5 else chr(97 + i)
        domain = f"{rng.choice(['lucky', 'cheap', 'fast', 'mega'])}{rng.choice(['spins', 'pills', 'cash', 'deals'])}{number}.{tld}"
        kinds = rng.sample(list(SPAM), rng.choice([1, 2]))
        anchor = rng.choice([*MONEY_TERMS, "click here", "hiking"])
        body = spam_text(rng, kinds, rng.randint(3, 8))
        if rng.random() < 0.5:
            body += paragraphs(rng, "hiking", 1)  # spun filler
        body += f"<p>{our_link(rng, anchor)}</p>"
        samples.append(_sample(domain, True, "spam", address(), [("/", document("Best deals", body, domain), anchor)]))
    for i in range(10):  # foreign spam: foreign text, spam words, money anchor
        language = languages[i % len(languages)]
        domain = f"{rng.choice(['kasyno', 'kazino', 'casino', 'pharma'])}{rng.randint(10, 999)}.{rng.choice(['ru', 'pl', 'xyz', 'top'])}"
        anchor = rng.choice(MONEY_TERMS)
        body = foreign(rng, language, 1) + spam_text(rng, ["casino", "pharma"], rng.randint(2, 4)) + f"<p>{our_link(rng, anchor)}</p>"
        samples.append(_sample(domain, True, "foreign spam", address(), [("/", document("Казино", body, domain, lang=language), anchor)]))
    for cluster in range(3):  # private blog networks: six domains per /24, decent posts, money anchors
        network = f"91.{200 + cluster}.{cluster * 7}"
        for j in range(6):
            domain = (f"{rng.choice(['outdoor', 'hiking', 'camping', 'trail'])}"
                      f"{rng.choice(['tips', 'guide', 'world', 'hub'])}{cluster}{j}.com")
            anchor = rng.choice(MONEY_TERMS) if rng.random() < 0.8 else "TrailGear"
            body = paragraphs(rng, "hiking", rng.randint(1, 4)) + f"<p>{our_link(rng, anchor)}</p>"
            samples.append(_sample(domain, True, "blog network", address(network), [("/post", document("Tips", body, domain), anchor)]))
    return samples
