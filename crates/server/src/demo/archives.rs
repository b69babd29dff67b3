//! Demo and benchmark archives: per scale unit 200 customers (with contacts and sites),
//! 30 products, 2,000 orders and 3,000 installed units, in Chinese, across seven regions,
//! with their timelines and search documents. Deterministic (a fixed seed), bulk-inserted.

use domain::search::{index_tokens, normalize};
use store::Tx;
use store::archives::bulk::{self, Table};

use crate::error::AppResult;

const REGIONS: [(&str, &[&str]); 7] = [
    ("华东", &["上海", "杭州", "南京", "苏州", "宁波", "合肥"]),
    ("华北", &["北京", "天津", "石家庄", "太原"]),
    ("华南", &["广州", "深圳", "佛山", "东莞", "厦门"]),
    ("华中", &["武汉", "郑州", "长沙"]),
    ("西南", &["成都", "重庆", "昆明"]),
    ("西北", &["西安", "兰州", "银川"]),
    ("东北", &["沈阳", "大连", "长春", "哈尔滨"]),
];
const WORDS: [&str; 16] = [
    "恒通",
    "华信",
    "宏达",
    "金源",
    "瑞丰",
    "东方",
    "新世纪",
    "中联",
    "鼎盛",
    "永安",
    "天成",
    "博远",
    "精工",
    "卓越",
    "远航",
    "泰和",
];
const SUFFIXES: [&str; 6] = [
    "机械有限公司",
    "电气股份有限公司",
    "自动化科技有限公司",
    "重工集团有限公司",
    "制造有限公司",
    "物业管理有限公司",
];
const INDUSTRIES: [&str; 6] = ["制造业", "电力", "化工", "物流", "建筑", "食品"];
const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
];
const GIVEN: [&str; 12] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
];
const FAMILIES: [(&str, &str, &str); 5] = [
    ("XK", "数控加工中心", "机床"),
    ("BF", "变频控制柜", "电气"),
    ("GS", "供水设备", "泵站"),
    ("AF", "安防监控主机", "安防"),
    ("LT", "电梯控制系统", "电梯"),
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

fn day(n: i64) -> (String, i64) {
    // Days from 2023-01-01.
    let base =
        time::Date::from_calendar_date(2023, time::Month::January, 1).unwrap_or(time::Date::MIN);
    let d = base.checked_add(time::Duration::days(n)).unwrap_or(base);
    (
        format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day()),
        d.midnight().assume_utc().unix_timestamp(),
    )
}

fn doc(kind: &'static str, ref_id: i64, title: String, text: &str) -> bulk::DocRow {
    bulk::DocRow {
        kind,
        ref_id,
        title,
        text: normalize(text),
        tokens: index_tokens(text),
    }
}

/// What was generated.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub customers: usize,
    pub products: usize,
    pub orders: usize,
    pub equipment: usize,
}

/// Generates `scale` units of archives into `org` inside `tx`.
pub async fn generate(tx: &mut Tx, org: i64, scale: usize, now: i64) -> AppResult<Counts> {
    let scale = scale.max(1);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ org as u64);

    // Customers, contacts, sites.
    let mut customers = Vec::with_capacity(200 * scale);
    for i in 0..200 * scale {
        let (region, cities) = *rng.pick(&REGIONS);
        let city = *rng.pick(cities);
        let person = i % 10 == 9;
        let name = if person {
            format!(
                "{}{}{}",
                rng.pick(&SURNAMES),
                rng.pick(&GIVEN),
                rng.pick(&GIVEN)
            )
        } else {
            format!("{city}{}{}", rng.pick(&WORDS), rng.pick(&SUFFIXES))
        };
        let name = format!(
            "{name}{}",
            if i >= 200 {
                format!("（{}）", i / 200)
            } else {
                String::new()
            }
        );
        customers.push(bulk::CustomerRow {
            code: format!("C{:06}", i + 1),
            name,
            kind: if person { "person" } else { "company" },
            industry: rng.pick(&INDUSTRIES).to_string(),
            region: region.to_string(),
            address: format!("{city}市{}路{}号", rng.pick(&WORDS), rng.below(900) + 1),
            tags: if i % 7 == 0 {
                "[\"重点客户\"]".into()
            } else {
                "[]".into()
            },
        });
    }
    bulk::customers(&mut tx.c(), org, now, &customers).await?;
    let ids: std::collections::HashMap<String, i64> = bulk::ids(&mut tx.c(), org, Table::Customers)
        .await?
        .into_iter()
        .collect();
    let cust_ids: Vec<i64> = customers
        .iter()
        .map(|c| ids.get(&c.code).copied().unwrap_or(0))
        .collect();
    let mut contacts = Vec::new();
    let mut sites = Vec::new();
    let mut docs = Vec::new();
    for (i, c) in customers.iter().enumerate() {
        let id = cust_ids[i];
        let n = 1 + (i % 2);
        let mut text = format!(
            "{} {} {} {} {}",
            c.code, c.name, c.region, c.address, c.industry
        );
        for k in 0..n {
            let name = format!("{}{}", rng.pick(&SURNAMES), rng.pick(&GIVEN));
            let mobile = format!(
                "13{}{:08}",
                5 + (k + i) % 5,
                (i as u64 * 7919 + k as u64 * 104_729) % 100_000_000
            );
            text.push_str(&format!(" {name} {mobile}"));
            contacts.push(bulk::ContactRow {
                customer_id: id,
                name,
                role: Some(if k == 0 {
                    "设备管理员".into()
                } else {
                    "采购经理".into()
                }),
                mobile: Some(mobile),
                phone: None,
                email: None,
                wechat: None,
            });
        }
        let site = format!(
            "{}厂区",
            if c.kind == "person" {
                "住宅"
            } else {
                "一号"
            }
        );
        text.push_str(&format!(" {site}"));
        sites.push(bulk::SiteRow {
            customer_id: id,
            name: site,
            region: c.region.clone(),
            address: c.address.clone(),
        });
        docs.push(doc(
            "customer",
            id,
            format!("{} ({})", c.name, c.code),
            &text,
        ));
    }
    bulk::contacts(&mut tx.c(), org, now, &contacts).await?;
    bulk::sites(&mut tx.c(), org, now, &sites).await?;
    let site_of: std::collections::HashMap<String, i64> = bulk::ids(&mut tx.c(), org, Table::Sites)
        .await?
        .into_iter()
        .collect();

    // Products.
    let mut products = Vec::with_capacity(30 * scale);
    for i in 0..30 * scale {
        let (fam, name, cat) = FAMILIES[i % FAMILIES.len()];
        let model = format!("{fam}-{}", 100 + (i / FAMILIES.len()) * 20);
        products.push(bulk::ProductRow {
            part_no: format!("P{:05}", i + 1),
            model,
            name: name.to_string(),
            category: Some(cat.to_string()),
            warranty_months: [12, 18, 24, 36][i % 4],
            contract_levels: "[\"基础\",\"标准\",\"尊享\"]".into(),
        });
    }
    bulk::products(&mut tx.c(), org, now, &products).await?;
    let pids: std::collections::HashMap<String, i64> = bulk::ids(&mut tx.c(), org, Table::Products)
        .await?
        .into_iter()
        .collect();
    let prod_ids: Vec<i64> = products
        .iter()
        .map(|p| pids.get(&p.part_no).copied().unwrap_or(0))
        .collect();
    for (i, p) in products.iter().enumerate() {
        docs.push(doc(
            "product",
            prod_ids[i],
            format!("{} {}", p.part_no, p.model),
            &format!(
                "{} {} {} {}",
                p.part_no,
                p.model,
                p.name,
                p.category.as_deref().unwrap_or("")
            ),
        ));
    }

    // Orders with lines, then the units they delivered.
    let n_orders = 2000 * scale;
    let mut orders = Vec::with_capacity(n_orders);
    let mut plan = Vec::with_capacity(n_orders);
    for i in 0..n_orders {
        let ci = rng.below(customers.len());
        let ship = rng.below(1400) as i64;
        let (date, _) = day(ship);
        orders.push(bulk::OrderRow {
            order_no: format!("SO{}{:07}", &date[..4], i + 1),
            customer_id: cust_ids[ci],
            delivery_no: Some(format!("DN{:08}", i + 1)),
            ship_date: Some(date),
            notes: None,
        });
        plan.push((ci, ship));
    }
    bulk::orders(&mut tx.c(), org, now, &orders).await?;
    let oids: std::collections::HashMap<String, i64> = bulk::ids(&mut tx.c(), org, Table::Orders)
        .await?
        .into_iter()
        .collect();
    let order_ids: Vec<i64> = orders
        .iter()
        .map(|o| oids.get(&o.order_no).copied().unwrap_or(0))
        .collect();
    let mut lines = Vec::new();
    let mut events = Vec::new();
    let mut units = Vec::with_capacity(3000 * scale);
    let mut unit_meta = Vec::with_capacity(3000 * scale);
    let per_order = (3000 * scale) as f64 / n_orders as f64;
    let mut owed = 0.0f64;
    for (i, o) in orders.iter().enumerate() {
        let (ci, ship) = plan[i];
        let pi = rng.below(products.len());
        owed += per_order;
        let qty = owed.floor() as i64;
        owed -= qty as f64;
        lines.push(bulk::LineRow {
            order_id: order_ids[i],
            product_id: prod_ids[pi],
            quantity: qty.max(1),
            unit_price_fen: (50_000 + rng.below(2_000_000) as i64) * 100,
        });
        let (_, at) = day(ship);
        events.push(bulk::EventRow {
            customer_id: Some(o.customer_id),
            equipment_id: None,
            at,
            kind: "order",
            ref_id: order_ids[i],
            summary: o.order_no.clone(),
        });
        docs.push(doc(
            "order",
            order_ids[i],
            format!("{} · {}", o.order_no, customers[ci].name),
            &format!(
                "{} {} {} {}",
                o.order_no,
                o.delivery_no.as_deref().unwrap_or(""),
                customers[ci].name,
                products[pi].part_no
            ),
        ));
        for _ in 0..qty {
            let seq = units.len() + 1;
            let install = ship + 3 + rng.below(28) as i64;
            let (idate, _) = day(install);
            let p = &products[pi];
            let warranty_end = domain::archives::equipment::add_months(&idate, p.warranty_months);
            let serial = format!("SN-{}-{:04}{:06}", &idate[..4], rng.below(10_000), seq);
            units.push(bulk::EquipmentRow {
                serial,
                product_id: prod_ids[pi],
                customer_id: o.customer_id,
                site_id: site_of.get(&o.customer_id.to_string()).copied(),
                order_id: Some(order_ids[i]),
                install_date: Some(idate),
                warranty_end,
                warranty_overridden: false,
                contract_level: if seq % 3 == 0 {
                    Some("标准".into())
                } else {
                    None
                },
                contract_start: None,
                contract_end: None,
                sla_profile: None,
            });
            unit_meta.push((ci, pi, install));
        }
    }
    bulk::lines(&mut tx.c(), org, &lines).await?;
    bulk::equipment(&mut tx.c(), org, now, &units).await?;
    let eids: std::collections::HashMap<String, i64> =
        bulk::ids(&mut tx.c(), org, Table::Equipment)
            .await?
            .into_iter()
            .collect();
    for (k, u) in units.iter().enumerate() {
        let id = eids.get(&u.serial).copied().unwrap_or(0);
        let (ci, pi, install) = unit_meta[k];
        let (_, at) = day(install);
        let p = &products[pi];
        events.push(bulk::EventRow {
            customer_id: Some(u.customer_id),
            equipment_id: Some(id),
            at,
            kind: "install",
            ref_id: id,
            summary: format!("{} {}", u.serial, p.model),
        });
        docs.push(doc(
            "equipment",
            id,
            format!("{} · {}", u.serial, p.model),
            &format!(
                "{} {} {} {}",
                u.serial, p.part_no, p.model, customers[ci].name
            ),
        ));
    }
    bulk::events(&mut tx.c(), org, &events).await?;
    bulk::docs(&mut tx.c(), org, &docs).await?;
    Ok(Counts {
        customers: customers.len(),
        products: products.len(),
        orders: orders.len(),
        equipment: units.len(),
    })
}
