"""Published lists of names only (公告名单: 序号, 省份/地区, 企业名称): read, matched, reviewed, then granted."""
