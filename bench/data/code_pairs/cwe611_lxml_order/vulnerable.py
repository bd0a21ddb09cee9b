from lxml import etree


def parse_order(payload: bytes):
    parser = etree.XMLParser(resolve_entities=True, no_network=False)
    root = etree.fromstring(payload, parser)
    return {"id": root.findtext("id"), "total": root.findtext("total")}
