"""Writes import files of N rows that reference the demo company's archives (customers
C000001…, products P00001…), for timing `aftersales import`."""
import random
import sys

n = int(sys.argv[1])
out = sys.argv[2]
random.seed(7)
cust = lambda: f"C{random.randint(1, 200):06d}"
part = lambda: f"P{random.randint(1, 30):05d}"
day = lambda: f"2025-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"
files = {
    "customers": ("客户编号,客户名称,类型,地区,地址",
                  lambda i: f"K{i:07d},导入客户{i}机械有限公司,公司,华东,上海市{i}号"),
    "contacts": ("客户,联系人,手机", lambda i: f"{cust()},联系人{i},139{i:08d}"),
    "products": ("料号,型号,产品名称,类别,保修期", lambda i: f"IP-{i:07d},M-{i % 500},导入产品{i},机床,24"),
    "orders": ("订单编号,客户,交运日期,料号,数量,单价",
               lambda i: f"IO-{i // 2:07d},{cust()},{day()},{part()},{random.randint(1, 5)},{random.randint(100, 9999)}.50"),
    "equipment": ("序列号,料号,客户,安装日期", lambda i: f"IMP-{i:08d},{part()},{cust()},{day()}"),
}
for kind, (head, row) in files.items():
    with open(f"{out}/{kind}.csv", "w", encoding="utf-8") as f:
        f.write(head + "\n")
        for i in range(n):
            line = row(i)
            if kind == "orders" and i % 2 == 1:
                # The second line of an order repeats the order's own columns.
                prev = prev_line.split(",")
                line = ",".join(prev[:3] + line.split(",")[3:])
            f.write(line + "\n")
            prev_line = line
