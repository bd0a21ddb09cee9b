from lxml import etree


def parse_order(payload: bytes):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(payload, parser)
    return {"id": root.findtext("id"), "total": root.findtext("total")}
