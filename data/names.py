"""Word lists and vectorised builders for plausible Chinese entity names, people and addresses.

Demo data must read like a real register to the officials who try the product: a shop called
"广州市天河区鸿运餐饮店" at "天河路 128 号", not "entity 42".
"""

from __future__ import annotations

import numpy as np

TRADE_NAMES = np.array(list(
    "鸿运 金福 兴旺 顺达 华美 永盛 富源 嘉和 新兴 联创 盛世 佳宜 恒通 瑞丰 天成 宏图 汇丰 安康 "
    "百福 润发 康宁 德诚 众信 万家 和顺 昌隆 泰和 祥云 同心 益民 好又多 一品 老街 岭南 珠江 "
    "南粤 粤海 羊城 鹏程 湾区 海韵 丰泽 明珠 锦绣 启航 文华 仁和 广信 东升 长青".split()
))
SUFFIXES = {
    "food": ["食品商行", "副食店", "粮油店", "生鲜超市", "食品有限公司"],
    "catering": ["餐饮店", "茶餐厅", "大排档", "酒家", "粥粉面店", "餐饮管理有限公司"],
    "drugs": ["大药房", "药店", "医药连锁有限公司"],
    "medical": ["医疗器械有限公司", "医疗设备经营部"],
    "special_eq": ["电梯工程有限公司", "锅炉安装有限公司", "起重设备有限公司"],
    "hazchem": ["化工有限公司", "燃气有限公司", "化学品贸易有限公司"],
    "construction": ["建筑工程有限公司", "建设集团有限公司", "装饰工程有限公司"],
    "industrial": ["电子科技有限公司", "五金制品厂", "塑料制品有限公司", "电器有限公司"],
    "retail": ["便利店", "百货商店", "五金店", "服装店", "商贸有限公司"],
}
ROADS = np.array(list(
    "中山路 解放路 人民路 建设路 东风路 环市路 滨江路 新港路 工业大道 沿江路 体育路 花城大道 "
    "迎宾路 学府路 文明路 青年路 和平路 长安路 沙河路 光明路 兴业路 振兴路 创业路 南湖路".split()
))
SURNAMES = np.array(list("陈李黄张梁刘林吴何罗郑谢周冯邓叶蔡许杨曾彭苏钟潘卢"))
GIVEN = np.array(list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华文辉玲建国志红嘉欣俊浩"))


def pick(rng: np.random.Generator, words: np.ndarray, n: int) -> np.ndarray:
    """``n`` words drawn uniformly (with replacement)."""
    return words[rng.integers(0, len(words), n)]


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Two- or three-character personal names (surname + one or two given characters)."""
    surname = pick(rng, SURNAMES, n)
    given = pick(rng, GIVEN, n)
    second = np.where(rng.random(n) < 0.6, pick(rng, GIVEN, n), "")
    return np.char.add(np.char.add(surname, given), second)


def entity_names(rng: np.random.Generator, district_names: np.ndarray,
                 categories: np.ndarray) -> np.ndarray:
    """Names like 天河区鸿运餐饮店: district + trade name + a suffix typical of the category."""
    n = len(categories)
    suffix = np.empty(n, dtype=object)
    for code, options in SUFFIXES.items():
        mask = categories == code
        suffix[mask] = np.array(options)[rng.integers(0, len(options), int(mask.sum()))]
    trade = pick(rng, TRADE_NAMES, n)
    branch = np.where(rng.random(n) < 0.25, np.char.add(pick(rng, ROADS, n).astype(str), "分店"), "")
    return (district_names.astype(object) + trade.astype(object) + suffix
            + branch.astype(object)).astype(str)


def addresses(rng: np.random.Generator, prefixes: np.ndarray) -> np.ndarray:
    """Street addresses under a province/city/district prefix, e.g. ``…天河区体育路128号``."""
    n = len(prefixes)
    numbers = rng.integers(1, 999, n).astype(str)
    road = pick(rng, ROADS, n)
    return (prefixes.astype(object) + road.astype(object) + numbers.astype(object) + "号").astype(str)
