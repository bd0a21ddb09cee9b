import aiohttp


async def pull_metrics(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as reply:
            return await reply.json()
