"""What each import file holds: columns, their Chinese and English headers, their kinds.

The README's import section is generated from these specs (see docs), so they stay the truth.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Col:
    name: str  # the canonical (English) header
    zh: str  # the Chinese header officers' spreadsheets use
    kind: str  # str / int / bool / date / datetime / uscc / ric / plate / phone / enum
    required: bool = True
    aliases: tuple[str, ...] = ()  # other accepted headers
    choices: dict[str, str] = field(default_factory=dict)  # accepted value -> stored value
    doc: str = ""


# Accepted value -> stored value. Besides the codes, the words officers' sheets use every day
# (from traffic-police and transport-bureau ledgers); case and spaces do not matter.
BUSINESS_TYPES = {
    "passenger": "passenger", "客运": "passenger", "旅客运输": "passenger", "道路旅客运输": "passenger",
    "道路客运": "passenger", "班线客运": "passenger", "客运班线": "passenger", "旅游客运": "passenger",
    "包车客运": "passenger",
    "freight": "freight", "货运": "freight", "普通货运": "freight", "道路货物运输": "freight", "道路普通货物运输": "freight",
    "普通货物运输": "freight", "道路货运": "freight", "货物运输": "freight", "普货": "freight", "物流": "freight",
    "dangerous_goods": "dangerous_goods", "危货": "dangerous_goods", "危险货物运输": "dangerous_goods", "危险品": "dangerous_goods",
    "道路危险货物运输": "dangerous_goods", "危险货物": "dangerous_goods", "危货运输": "dangerous_goods", "危运": "dangerous_goods",
    "危化品": "dangerous_goods", "危化品运输": "dangerous_goods", "危险化学品运输": "dangerous_goods",
    "taxi": "taxi", "出租车": "taxi", "出租汽车": "taxi", "巡游出租汽车": "taxi", "巡游出租车": "taxi", "网约车": "taxi",
    "网络预约出租汽车": "taxi",
    "bus": "bus", "公交": "bus", "公共交通": "bus", "城市公交": "bus", "公交客运": "bus", "公共汽车": "bus",
    "城市公共汽车客运": "bus",
    "other": "other", "其他": "other", "其它": "other",
}
VEHICLE_CLASSES = {
    "coach": "coach", "客车": "coach", "长途客车": "coach", "班线客车": "coach", "大型客车": "coach", "中型客车": "coach",
    "大型普通客车": "coach", "中型普通客车": "coach", "大客车": "coach", "中客车": "coach", "客运班车": "coach",
    "卧铺客车": "coach",
    "tourist_coach": "tourist_coach", "旅游客车": "tourist_coach", "旅游大巴": "tourist_coach", "旅游车": "tourist_coach",
    "包车客车": "tourist_coach",
    "bus": "bus", "公交车": "bus", "城市公交车": "bus", "公共汽车": "bus",
    "taxi": "taxi", "出租车": "taxi", "出租汽车": "taxi", "巡游出租汽车": "taxi", "网约车": "taxi",
    "truck": "truck", "货车": "truck", "重型货车": "truck", "中型货车": "truck", "轻型货车": "truck", "普通货车": "truck",
    "载货汽车": "truck", "重型半挂牵引车": "truck", "半挂牵引车": "truck", "牵引车": "truck", "半挂车": "truck",
    "挂车": "truck", "厢式货车": "truck", "重型厢式货车": "truck", "自卸货车": "truck", "重型自卸货车": "truck",
    "自卸车": "truck",
    "tanker": "tanker", "危货车": "tanker", "危险货物运输车": "tanker", "罐车": "tanker", "危险品运输车": "tanker",
    "危化品运输车": "tanker", "槽罐车": "tanker", "油罐车": "tanker", "罐式货车": "tanker", "重型罐式货车": "tanker",
    "罐式半挂车": "tanker",
    "other": "other", "其他": "other", "其它": "other",
}
RESPONSIBILITY = {
    "full": "full", "全部": "full", "全责": "full", "全部责任": "full",
    "main": "main", "主要": "main", "主责": "main", "主要责任": "main",
    "equal": "equal", "同等": "equal", "同责": "equal", "同等责任": "equal",
    "secondary": "secondary", "次要": "secondary", "次责": "secondary", "次要责任": "secondary",
    "none": "none", "无责": "none", "无": "none", "无责任": "none",
}
VIOLATION_SOURCES = {
    "camera": "camera", "电子监控": "camera", "非现场": "camera", "非现场执法": "camera", "抓拍": "camera",
    "监控抓拍": "camera", "电子警察": "camera", "电警": "camera", "电子眼": "camera", "技术监控": "camera",
    "视频监控": "camera", "卡口": "camera", "测速": "camera",
    "onsite": "onsite", "现场": "onsite", "现场执法": "onsite", "现场处罚": "onsite", "现场查处": "onsite",
    "路面执法": "onsite", "路面查处": "onsite", "简易程序": "onsite",
    "trajectory": "trajectory", "轨迹": "trajectory", "轨迹倒查": "trajectory", "轨迹分析": "trajectory",
    "动态监控": "trajectory", "卫星定位": "trajectory", "GPS": "trajectory", "北斗": "trajectory",
}
BOOLEANS = {"true": "1", "false": "0", "1": "1", "0": "0", "yes": "1", "no": "0", "是": "1", "否": "0", "y": "1", "n": "0",
            "有": "1", "无": "0"}


@dataclass(frozen=True)
class Spec:
    kind: str  # companies / vehicles / ...
    table: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]  # natural key (stored column names) for the upsert
    doc: str


SPECS: dict[str, Spec] = {
    "companies": Spec("companies", "company", (
        Col("uscc", "统一社会信用代码", "uscc", aliases=("credit_code",)),
        Col("name", "企业名称", "str", aliases=("company_name",)),
        Col("business_type", "业务类型", "enum", choices=BUSINESS_TYPES, aliases=("经营类型",)),
        Col("jurisdiction", "辖区", "str", aliases=("县市区",)),
    ), ("uscc",), "运输企业 transport companies"),
    "vehicles": Spec("vehicles", "vehicle", (
        Col("plate", "号牌号码", "plate", aliases=("车牌号", "车牌")),
        Col("company_uscc", "企业统一社会信用代码", "uscc", aliases=("统一社会信用代码",)),
        Col("vehicle_class", "车辆类型", "enum", choices=VEHICLE_CLASSES),
        Col("active_from", "启用日期", "date", aliases=("注册日期",)),
        Col("active_to", "停用日期", "date", required=False, aliases=("注销日期",)),
    ), ("plate",), "车辆 vehicles"),
    "drivers": Spec("drivers", "driver", (
        Col("id_number", "身份证号", "ric", aliases=("身份证号码", "公民身份号码")),
        Col("name", "姓名", "str", aliases=("驾驶员姓名",)),
        Col("phone", "联系电话", "phone", required=False, aliases=("电话", "手机号")),
        Col("company_uscc", "企业统一社会信用代码", "uscc", aliases=("统一社会信用代码",)),
    ), ("id_number",), "驾驶员 drivers"),
    "assignments": Spec("assignments", "assignment", (
        Col("driver_id_number", "驾驶员身份证号", "ric", aliases=("身份证号",)),
        Col("plate", "号牌号码", "plate", aliases=("车牌号", "车牌")),
        Col("start", "开始时间", "datetime", aliases=("签到时间",)),
        Col("end", "结束时间", "datetime", required=False, aliases=("签退时间",)),
    ), ("driver_id", "vehicle_id", "start"), "排班/签到 driver-vehicle assignments"),
    "accidents": Spec("accidents", "accident", (
        Col("occurred_at", "事故时间", "datetime", aliases=("发生时间",)),
        Col("plate", "号牌号码", "plate", aliases=("车牌号", "车牌")),
        Col("driver_id_number", "驾驶员身份证号", "ric", required=False, aliases=("身份证号",)),
        Col("fatalities", "死亡人数", "int"),
        Col("injuries", "受伤人数", "int"),
        Col("responsibility", "事故责任", "enum", choices=RESPONSIBILITY, aliases=("责任",)),
        Col("dangerous_goods_release", "危险货物泄漏", "bool", required=False),
        Col("record_no", "事故编号", "str", required=False),
    ), ("vehicle_id", "occurred_at"), "交通事故 accidents"),
    "violations": Spec("violations", "violation", (
        Col("occurred_at", "违法时间", "datetime"),
        Col("plate", "号牌号码", "plate", aliases=("车牌号", "车牌")),
        Col("driver_id_number", "驾驶员身份证号", "ric", required=False, aliases=("身份证号",)),
        Col("code", "违法代码", "str", aliases=("违法行为代码",)),
        Col("points", "记分", "int", aliases=("违法记分",)),
        Col("source", "来源", "enum", choices=VIOLATION_SOURCES, aliases=("采集方式",)),
        Col("record_no", "违法编号", "str", required=False, aliases=("决定书编号",)),
    ), ("vehicle_id", "occurred_at", "code"), "交通违法 violations"),
}
