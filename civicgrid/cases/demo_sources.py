"""The real messages behind the demo history: reading them, moving their times into the last two years,
and deriving what the portal did not record (category, nature) from their text.

Sources (../shared/data/messages/, see its README): ``messages_with_replies.csv`` (2,816 messages with the
government's written reply and its time) and ``messages_with_votes.csv`` (4,326 messages with up/down votes,
no reply). Texts are kept as written; only surrounding whitespace and blank lines are removed.

Time. The source's range 2017-06-01 … 2020-01-31 is mapped linearly, by day, onto [today − 730 days,
today − 1 day], keeping each message's time of day; a reply keeps its real delay after the message, so the
reply delays keep their real distribution (median ≈ 11 days). About a third of the replied messages are
older (2011 … 2017-05): they are folded into the range by whole years (a year chosen per message, so
seasonal topics such as heating stay in their season) before the mapping.

Category (a heuristic, not a classifier; a trained one is a later issue). Each first-level class is scored
by hand-written keywords (KEYWORDS) plus the names of its own second- and third-level categories found in
the text (a name such as "城市建设和市政管理" also counts by its parts "城市建设", "市政管理"); the title
counts three times the body; frequent second- and third-level topics have keywords too (SUB_KEYWORDS). Inside the winning class the best-scoring second level, then third level, is
taken; nothing found falls back to the node "其他". Measured against ``messages_labeled_dev.csv`` (2,019
messages labelled with 7 of the 15 first-level classes) it agrees with the label for roughly 80 % of the
messages; the second and third levels are not measured (no labels) and are often "其他". Limits: keyword
lists miss paraphrases, a message about two matters gets one category, and words that belong to several
classes (小区, 学校, 医保) go to whichever list names them.

Nature: 举报 / 投诉 / 建议 when the title says so, else 咨询 when the text asks (请问, 能否, 咨询, 是否 …),
else the same three words in the body, else 求助.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.utils import timezone

from civicgrid.cases.models import Nature

SOURCE_START = date(2017, 6, 1)
SOURCE_END = date(2020, 1, 31)
HISTORY_DAYS = 730
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d",
)


@dataclass(frozen=True)
class Message:
    source: str  # "replies" or "votes"
    id: str
    title: str
    body: str
    at: datetime  # naive, local time of the portal
    reply: str = ""
    reply_at: datetime | None = None
    likes: int = 0

    @property
    def key(self) -> str:
        return f"{self.source}:{self.id}"


def parse_time(value: str) -> datetime:
    text = value.strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"unrecognised time {value!r}")


def clean_text(value: str) -> str:
    """Surrounding whitespace and blank lines removed; the words stay as written."""
    lines = (line.strip() for line in value.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def read_messages(messages_dir: Path) -> list[Message]:
    """Both files, replied messages first, each in file order."""
    found: list[Message] = []
    with (messages_dir / "messages_with_replies.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            title = clean_text(row["留言主题"])
            found.append(
                Message(
                    source="replies",
                    id=row["留言编号"].strip(),
                    title=title,
                    body=clean_text(row["留言详情"]) or title,
                    at=parse_time(row["留言时间"]),
                    reply=clean_text(row["答复意见"]),
                    reply_at=parse_time(row["答复时间"]),
                )
            )
    with (messages_dir / "messages_with_votes.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            title = clean_text(row["留言主题"])
            found.append(
                Message(
                    source="votes",
                    id=row["留言编号"].strip(),
                    title=title,
                    body=clean_text(row["留言详情"]) or title,
                    at=parse_time(row["留言时间"]),
                    likes=int(row["点赞数"] or 0),
                )
            )
    return found


def stable_order(seed: str, key: str) -> bytes:
    """A sort key that shuffles deterministically (the same seed and key give the same place)."""
    return hashlib.sha256(f"{seed}:{key}".encode()).digest()


@dataclass(frozen=True)
class TimeMap:
    """Source times → demo times (see the module docstring)."""

    today: date

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=HISTORY_DAYS)

    def fold(self, when: datetime, pick: float) -> datetime:
        """A time before SOURCE_START moved by whole years into the source range (``pick`` ∈ [0, 1) chooses
        the year among those that fit)."""
        if when.date() >= SOURCE_START:
            return when
        years = []
        for year in range(SOURCE_START.year, SOURCE_END.year + 1):
            day = when.day if not (when.month == 2 and when.day == 29) else 28
            candidate = when.replace(year=year, day=day)
            if SOURCE_START <= candidate.date() <= SOURCE_END:
                years.append(candidate)
        return years[int(pick * len(years))]

    def to_demo(self, when: datetime) -> datetime:
        """A source time (inside the source range) → an aware demo time, same time of day."""
        source_days = (SOURCE_END - SOURCE_START).days
        offset = min(max((when.date() - SOURCE_START).days, 0), source_days)
        day = self.first_day + timedelta(days=round(offset * (HISTORY_DAYS - 1) / source_days))
        return timezone.make_aware(datetime.combine(day, when.time()))


# --- Nature ------------------------------------------------------------------------------------------

_ASKS = (
    "请问",
    "能否",
    "咨询",
    "是否",
    "可否",
    "能不能",
    "可不可以",
    "怎么办",
    "如何办理",
    "什么时候",
    "何时",
    "？",
    "?",
)


def infer_nature(title: str, body: str) -> str:
    for word, nature in (("举报", Nature.REPORT), ("投诉", Nature.COMPLAINT), ("建议", Nature.SUGGESTION)):
        if word in title:
            return nature.value
    if "表扬" in title or "感谢" in title[:4]:
        return Nature.PRAISE.value
    head = body[:300]
    if any(word in title or word in head for word in _ASKS):
        return Nature.CONSULT.value
    for word, nature in (("举报", Nature.REPORT), ("投诉", Nature.COMPLAINT), ("建议", Nature.SUGGESTION)):
        if word in head:
            return nature.value
    return Nature.HELP.value


# --- Category ------------------------------------------------------------------------------------------

# Hand-written keywords per first-level class (the taxonomy's own names are added by the classifier).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "城乡建设": (
        "小区",
        "物业",
        "业主",
        "开发商",
        "楼盘",
        "交房",
        "房产证",
        "购房",
        "商品房",
        "车位",
        "拆迁",
        "征收",
        "安置",
        "棚改",
        "违建",
        "违章",
        "搭建",
        "施工",
        "工地",
        "道路",
        "路面",
        "路灯",
        "井盖",
        "下水道",
        "排水",
        "积水",
        "停水",
        "自来水",
        "燃气",
        "天然气",
        "停电",
        "供电",
        "绿化",
        "垃圾",
        "公厕",
        "修路",
        "规划",
        "公租房",
        "廉租房",
        "安置房",
        "公积金",
        "维修基金",
        "装修",
        "漏水",
    ),
    "环境保护": (
        "污染",
        "噪音",
        "噪声",
        "扰民",
        "油烟",
        "臭味",
        "恶臭",
        "异味",
        "粉尘",
        "扬尘",
        "排放",
        "污水",
        "废气",
        "废水",
        "环保",
        "环评",
        "排污",
        "黑烟",
        "焚烧",
        "河道",
        "水质",
    ),
    "交通运输": (
        "公交",
        "出租车",
        "的士",
        "网约车",
        "滴滴",
        "客运",
        "货运",
        "物流",
        "快递",
        "公路",
        "收费站",
        "高速",
        "班车",
        "线路",
        "站台",
        "运输",
        "地铁",
        "驾校",
    ),
    "教育文体": (
        "学校",
        "学生",
        "老师",
        "教师",
        "幼儿园",
        "学位",
        "招生",
        "入学",
        "小学",
        "中学",
        "初中",
        "高中",
        "大学",
        "学院",
        "教育",
        "补课",
        "培训班",
        "学费",
        "校园",
        "班主任",
        "实习",
        "体育",
        "图书馆",
        "文化",
        "文物",
    ),
    "劳动和社会保障": (
        "社保",
        "养老保险",
        "医保",
        "医疗保险",
        "工资",
        "欠薪",
        "拖欠工资",
        "退休",
        "养老金",
        "劳动合同",
        "劳动",
        "就业",
        "失业",
        "工伤",
        "人社",
        "职称",
        "农民工",
        "加班",
        "辞退",
        "五险一金",
        "社会保险",
    ),
    "卫生计生": (
        "医院",
        "医生",
        "看病",
        "就医",
        "诊所",
        "卫生院",
        "计生",
        "生育",
        "二胎",
        "独生子女",
        "疫苗",
        "食品",
        "药店",
        "药品",
        "医疗",
        "护士",
        "卫生",
        "传染",
        "病人",
    ),
    "商贸旅游": (
        "商家",
        "商户",
        "消费者",
        "价格",
        "传销",
        "景区",
        "旅游",
        "超市",
        "假货",
        "假烟",
        "商场",
        "质量",
        "广告",
        "门票",
        "酒店",
        "市场",
        "店铺",
        "促销",
        "退款",
        "押金",
        "电梯",
        "特种设备",
        "无证经营",
        "营业执照",
        "工商",
        "市场监管",
        "消费",
        "商品",
        "虚假宣传",
        "预付卡",
        "会员卡",
    ),
    "政法": (
        "派出所",
        "警察",
        "民警",
        "公安",
        "户口",
        "落户",
        "身份证",
        "交警",
        "违停",
        "治安",
        "诈骗",
        "律师",
        "法院",
        "判决",
        "报警",
        "打架",
        "赌博",
        "黑恶",
        "调解",
        "仲裁",
        "执行",
        "违章停车",
        "消防",
    ),
    "民政": (
        "低保",
        "养老院",
        "敬老院",
        "居委会",
        "婚姻",
        "殡葬",
        "墓地",
        "救助",
        "退役军人",
        "残疾",
        "优抚",
        "社区建设",
        "老年人",
        "孤寡",
        "慈善",
        "地名",
        "门牌",
    ),
    "农村农业": (
        "农村",
        "村民",
        "农民",
        "耕地",
        "宅基地",
        "扶贫",
        "养殖",
        "水库",
        "农田",
        "村委",
        "村干部",
        "集体",
        "土地流转",
        "种植",
        "农业",
        "林地",
        "山林",
        "防汛",
    ),
    "国土资源": ("土地", "征地", "用地", "矿", "国土", "不动产", "土地证", "地质", "采砂"),
    "经济管理": (
        "集资",
        "理财",
        "金融",
        "税",
        "车贷",
        "投资",
        "破产",
        "国企",
        "改制",
        "银行",
        "贷款",
        "非法吸收",
        "平台",
        "爆雷",
        "P2P",
        "p2p",
        "股东",
    ),
    "科技与信息产业": (
        "电信",
        "移动",
        "联通",
        "宽带",
        "网络",
        "信号",
        "通信",
        "基站",
        "手机",
        "网速",
        "光纤",
        "专利",
    ),
    "纪检监察": (
        "腐败",
        "贪污",
        "受贿",
        "索贿",
        "以权谋私",
        "不作为",
        "乱作为",
        "干部",
        "作风",
        "挪用",
        "公款",
        "吃拿卡要",
    ),
    "党务政务": (
        "党员",
        "党组织",
        "人大",
        "政协",
        "宗教",
        "政务",
        "政府网站",
        "信息公开",
        "团委",
        "妇联",
        "工会",
    ),
}
# Keywords of frequent second- and third-level categories, by name path (they also count for the class).
SUB_KEYWORDS: dict[str, tuple[str, ...]] = {
    "城乡建设/城市建设和市政管理/小区管理": ("小区", "业委会", "业主委员会", "停车位"),
    "城乡建设/住房保障与房地产/物业服务": ("物业", "物业费", "物业公司"),
    "城乡建设/住房保障与房地产/房产证登记、办理": ("房产证", "不动产证", "办证"),
    "城乡建设/住房保障与房地产/住房公积金": ("公积金",),
    "城乡建设/住房保障与房地产/房地产开发管理": ("开发商", "楼盘", "交房", "捆绑", "车位", "售楼"),
    "城乡建设/住房保障与房地产/保障性住房": ("公租房", "廉租房", "保障房", "人才公寓"),
    "城乡建设/城市建设和市政管理/基础设施": (
        "道路",
        "路面",
        "修路",
        "人行道",
        "下水道",
        "排水",
        "积水",
        "井盖",
    ),
    "城乡建设/城市建设和市政管理/环境卫生": ("垃圾", "公厕", "环卫"),
    "城乡建设/城市建设和市政管理/城管执法": ("城管", "占道", "摆摊", "流动摊贩", "渣土车"),
    "城乡建设/城市建设和市政管理/自来水供应": ("停水", "自来水", "水压", "水费"),
    "城乡建设/城市建设和市政管理/电力供应": ("停电", "供电", "电费", "电压"),
    "城乡建设/城市建设和市政管理/燃气供应": ("燃气", "天然气", "煤气", "液化气"),
    "城乡建设/城市建设和市政管理/园林绿化": ("绿化", "树木", "砍树"),
    "城乡建设/城市建设和市政管理/城市公共设施": ("路灯", "公共设施", "健身器材"),
    "城乡建设/城乡规划/违章建筑": ("违建", "违章建筑", "私搭乱建", "搭建", "加建", "违法建设", "违章搭建"),
    "城乡建设/城乡规划/规划方案": ("规划",),
    "城乡建设/国有土地上房屋征收与补偿/安置补偿": ("拆迁", "征收", "补偿", "安置"),
    "城乡建设/国有土地上房屋征收与补偿/棚户区和城中村改造": (
        "棚改",
        "棚户区",
        "城中村",
        "老旧小区改造",
        "提质改造",
    ),
    "城乡建设/建筑市场/拖欠工程款": ("工程款",),
    "城乡建设/工程质量/施工安全": ("施工安全", "脚手架", "塔吊"),
    "环境保护/环境污染/噪音污染": ("噪音", "噪声", "扰民"),
    "环境保护/环境污染/大气污染": ("油烟", "粉尘", "扬尘", "废气", "臭味", "异味", "焚烧", "黑烟"),
    "环境保护/环境污染/水污染": ("污水", "废水", "河道", "水质", "排污"),
    "交通运输/出租车管理/网约车问题": ("网约车", "滴滴"),
    "交通运输/出租车管理/行业监管": ("出租车", "的士"),
    "交通运输/客货运输/旅客运输": ("公交", "客运", "班车", "线路", "站台"),
    "交通运输/邮政管理/快递市场管理": ("快递",),
    "教育文体/教育行政管理/教学管理": ("学校", "老师", "教师", "补课", "班主任"),
    "教育文体/考试招生/招生录取": ("招生", "入学", "学位", "划片"),
    "教育文体/教育收费/乱收费": ("学费", "乱收费"),
    "劳动和社会保障/劳动关系/农民工权益": ("农民工",),
    "劳动和社会保障/工资福利/工资发放": ("工资", "拖欠工资", "欠薪"),
    "劳动和社会保障/城镇职工社会保险/职工养老保险": ("养老保险", "社保"),
    "劳动和社会保障/城镇职工社会保险/职工医疗保险": ("医保", "医疗保险"),
    "劳动和社会保障/退休政策及待遇/退休人员待遇": ("退休", "养老金"),
    "劳动和社会保障/就业培训/就业和再就业": ("就业", "失业", "招聘"),
    "卫生计生/医政监管/医疗技术和服务": ("医院", "医生", "看病", "就医"),
    "卫生计生/食品药品监管/食品安全": ("食品", "过期", "食堂"),
    "卫生计生/人口计生/计划生育服务管理": ("计生", "生育", "二胎", "准生证"),
    "商贸旅游/市场监管/物价监督": ("价格", "涨价"),
    "商贸旅游/市场监管/商品质量": ("质量", "假货", "退款", "售后", "押金"),
    "商贸旅游/市场监管/传销": ("传销",),
    "商贸旅游/质监检验检疫/特种设备管理": ("电梯", "特种设备", "锅炉"),
    "商贸旅游/旅游管理/景区管理": ("景区", "门票", "旅游"),
    "政法/户籍证件/户籍管理": ("户口", "落户", "户籍"),
    "政法/户籍证件/身份证管理": ("身份证",),
    "政法/交通管理/交通安全管理": ("交警", "违停", "违章停车", "红绿灯"),
    "政法/社会治安/治安案件": ("治安", "打架", "报警", "偷盗", "盗窃"),
    "政法/社会治安/黄赌毒": ("赌博", "吸毒", "色情"),
    "政法/社会治安/消防安全": ("消防", "火灾", "消防通道"),
    "政法/仲裁与调解/司法调解": ("调解", "邻里纠纷"),
    "经济管理/金融财税/非法经济活动": ("集资", "非法吸收", "车贷", "P2P", "爆雷", "理财"),
    "经济管理/金融财税/税收征管": ("纳税", "发票", "偷税"),
    "民政/社会救助/城镇低保": ("低保",),
    "民政/社会服务/殡葬管理": ("殡葬", "墓地", "公墓"),
    "民政/优抚/老退役军人待遇": ("退役军人", "老兵", "退伍"),
    "民政/基层选举和社区建设/社区建设": ("社区", "居委会"),
    "农村农业/土地承包经营/宅基地纠纷": ("宅基地",),
    "农村农业/村务管理/集体资产管理": ("集体资产", "村委", "村干部"),
    "农村农业/扶贫开发/扶贫开发政策": ("扶贫", "贫困户"),
    "国土资源/土地征收/安置补偿": ("征地",),
    "科技与信息产业/电信/通信保障": ("信号", "基站", "宽带"),
    "纪检监察/干部作风/官僚主义": ("不作为", "推诿"),
    "纪检监察/贪污贿赂/贪污": ("贪污", "受贿", "腐败"),
}
# Parts of names too generic to point anywhere ("房产证登记、办理" must not match every "办理").
_GENERIC = frozenset({"办理", "管理", "服务", "建设", "问题", "其他", "政策", "工作"})
_OTHER = "其他"
_SPLIT = re.compile(r"[和与及、]")
_STRIP = re.compile(r"A\d+[区县市]|A市|西地省|[\s，。！？、,.!?“”\"（）()《》:：;；]")


@dataclass
class CategoryNode:
    pk: int
    code: str
    name: str
    depth: int
    children: list[CategoryNode] = field(default_factory=list)
    name_path: str = ""
    terms: tuple[str, ...] = ()
    subtree_terms: tuple[str, ...] = ()  # its own and its descendants' terms


def _terms(node: CategoryNode) -> tuple[str, ...]:
    extra = SUB_KEYWORDS.get(node.name_path, ())
    if node.name == _OTHER:
        return extra
    parts = [p for p in _SPLIT.split(node.name) if len(p) >= 2 and p not in _GENERIC]
    return tuple(dict.fromkeys([node.name, *parts, *extra]))


def _score(terms: Iterable[str], title: str, body: str) -> int:
    score = 0
    for term in terms:
        if term in title:
            score += 3 * len(term)
        if term in body:
            score += len(term)
    return score


class Classifier:
    """Scores the taxonomy on a message's text (see the module docstring)."""

    def __init__(self, roots: list[CategoryNode]) -> None:
        def name_paths(nodes: list[CategoryNode], prefix: str) -> None:
            for node in nodes:
                node.name_path = f"{prefix}{node.name}"
                node.terms = _terms(node)
                name_paths(node.children, f"{node.name_path}/")

        name_paths(roots, "")
        for node in _walk(roots):
            node.subtree_terms = tuple(dict.fromkeys(t for n in _walk([node]) for t in n.terms))
        self.roots = roots
        self._root_terms = [
            tuple(dict.fromkeys([*KEYWORDS.get(root.name, ()), *root.subtree_terms])) for root in roots
        ]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, str, str, int, int | None]]) -> Classifier:
        """``rows``: (pk, code, name, depth, parent pk), parents before children, siblings in order."""
        nodes: dict[int, CategoryNode] = {}
        roots: list[CategoryNode] = []
        for pk, code, name, depth, parent in rows:
            node = CategoryNode(pk, code, name, depth)
            nodes[pk] = node
            (nodes[parent].children if parent in nodes else roots).append(node)
        return cls(roots)

    def ranked_roots(self, title: str, body: str) -> list[tuple[int, CategoryNode]]:
        title, body = _STRIP.sub("", title), _STRIP.sub("", body[:1500])
        ranked = []
        for order, (root, terms) in enumerate(zip(self.roots, self._root_terms, strict=True)):
            ranked.append((_score(terms, title, body), -order, root))
        ranked.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [(score, root) for score, _, root in ranked]

    def classify(self, title: str, body: str, *, rank: int = 0) -> CategoryNode:
        """The deepest category the text points to inside the ``rank``-th best first-level class."""
        ranked = self.ranked_roots(title, body)
        score, node = ranked[min(rank, len(ranked) - 1)]
        if score == 0 and rank == 0:
            node = next((r for r in self.roots if r.name == "城乡建设"), self.roots[0])
        clean_title, clean_body = _STRIP.sub("", title), _STRIP.sub("", body[:1500])
        while node.children:
            best = max(
                enumerate(node.children),
                key=lambda item: (_score(item[1].subtree_terms, clean_title, clean_body), -item[0]),
            )[1]
            if _score(best.subtree_terms, clean_title, clean_body) == 0:
                best = next((c for c in node.children if c.name == _OTHER), node.children[0])
            node = best
        return node


def _walk(nodes: list[CategoryNode]) -> Iterable[CategoryNode]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


# --- Similar messages (duplicates for 并案) ----------------------------------------------------------------


def title_grams(title: str) -> frozenset[str]:
    text = _STRIP.sub("", title)
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def earlier_similar(
    items: list[tuple[str, datetime, str]], *, threshold: float = 0.5, window: timedelta = timedelta(days=90)
) -> dict[str, str]:
    """For each item (key, time, title), the key of the most similar earlier item within ``window``
    (Jaccard similarity of the titles' character bigrams ≥ ``threshold``); items are taken in time order."""
    ordered = sorted(items, key=lambda item: (item[1], item[0]))
    grams = [title_grams(title) for _, _, title in ordered]
    index: dict[str, list[int]] = defaultdict(list)
    found: dict[str, str] = {}
    for i, (key, when, _) in enumerate(ordered):
        mine = grams[i]
        shared: dict[int, int] = defaultdict(int)
        for gram in mine:
            for j in index[gram]:
                shared[j] += 1
        best: tuple[float, int] | None = None
        for j, count in shared.items():
            if when - ordered[j][1] > window:
                continue
            similarity = count / len(mine | grams[j])
            if similarity >= threshold and (best is None or similarity > best[0]):
                best = (similarity, j)
        if best is not None:
            found[key] = ordered[best[1]][0]
        for gram in mine:
            index[gram].append(i)
    return found
