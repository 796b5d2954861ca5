"""What the simulated city says, in English for a city whose ``city.language`` is ``en``.

The catalog (``feeds.sim_catalog``) is written in Indonesian, as a Pekanbaru operator reads
it. An English city's demo showed "Warga pingsan di Beach Road, ambulans dibutuhkan" on its
wall, so each text has its English here, with the same blanks. The simulator draws from the
Indonesian catalog and only then says it in the city's language: the seeded random stream
makes the same choices whatever the language, so a seed still reproduces a run.
"""

from __future__ import annotations

#: Indonesian text (a template with ``{blanks}``, or a label) -> its English.
ENGLISH: dict[str, str] = {
    # incidents (Alert descriptions)
    "Kemacetan panjang di {street} arah {dest}": "Long traffic jam on {street} towards {dest}",
    "Antrean kendaraan sekitar {km} km di {street}": "Queue of vehicles about {km} km long on {street}",
    "Lampu lalu lintas padam, simpang di {street} macet": "Traffic lights out, junction on {street} jammed",
    "Kecelakaan lalu lintas antara {vehicle} dan {vehicle2} di {street}": (
        "Collision between a {vehicle} and a {vehicle2} on {street}"
    ),
    "Kecelakaan tunggal {vehicle} di {street}, korban luka ringan": (
        "Single-vehicle crash ({vehicle}) on {street}, minor injuries"
    ),
    "Tabrakan beruntun {n} kendaraan di {street}": "Pile-up of {n} vehicles on {street}",
    "{vehicle} mogok di lajur kiri {street}": "Broken-down {vehicle} in the left lane of {street}",
    "Pohon tumbang menutup sebagian badan {street}": "Fallen tree partly blocking {street}",
    "Pohon tumbang menimpa kabel listrik di {street}": "Fallen tree on power lines on {street}",
    "Jalan berlubang membahayakan pengendara di {street}": "Potholes endangering riders on {street}",
    "Genangan air {cm} cm di {street}": "Standing water {cm} cm deep on {street}",
    "Drainase meluap, genangan {cm} cm di {street}": "Drain overflowing, water {cm} cm deep on {street}",
    "Banjir setinggi {cm} cm merendam rumah warga di Kec. {kec}": "Flood {cm} cm deep in homes in {kec}",
    "Kebakaran ruko di {street}, {n} unit damkar dikerahkan": "Shophouse fire on {street}, {n} fire engines sent",
    "Kebakaran rumah warga di {street}": "House fire on {street}",
    "Kebakaran lahan sekitar {ha} ha di Kec. {kec}": "Land fire of about {ha} ha in {kec}",
    "Titik api terpantau di lahan gambut Kec. {kec}": "Hotspot seen on peatland in {kec}",
    "Laporan penjambretan di {street}": "Bag snatching reported on {street}",
    "Keributan antarwarga di {street}, Satpol PP menuju lokasi": "Brawl on {street}, public order officers on the way",
    "Warga pingsan di {street}, ambulans dibutuhkan": "Person collapsed on {street}, ambulance needed",
    "Dugaan serangan jantung di {street}, ambulans 119 dikirim": "Suspected heart attack on {street}, ambulance (119) sent",
    "Kabut asap menurunkan jarak pandang di Kec. {kec}": "Haze cutting visibility in {kec}",
    "Hujan lebat disertai angin kencang di Kec. {kec}": "Heavy rain and strong wind in {kec}",
    # citizen reports: their labels and texts
    "Genangan air": "Standing water",
    "Genangan air setinggi {cm} cm di depan rumah warga di {street}": "Water {cm} cm deep in front of homes on {street}",
    "Drainase tersumbat": "Blocked drain",
    "Parit tersumbat sampah dan sedimen di {street}, air tidak mengalir": (
        "Ditch blocked by rubbish and silt on {street}, water not flowing"
    ),
    "Saluran meluap": "Overflowing channel",
    "Saluran drainase meluap ke jalan saat hujan di {street}": "Drain overflows onto the road when it rains on {street}",
    "Gorong-gorong rusak": "Broken culvert",
    "Gorong-gorong amblas di {street}": "Culvert collapsed on {street}",
    "Sampah menumpuk": "Rubbish piling up",
    "Tumpukan sampah belum diangkut {days} hari di {street}": "Rubbish not collected for {days} days on {street}",
    "TPS penuh": "Waste site full",
    "TPS penuh dan sampah meluber ke jalan di Kec. {kec}": "Waste site full, rubbish spilling onto the road in {kec}",
    "Pembuangan liar": "Illegal dumping",
    "Sampah dibuang sembarangan di lahan kosong {street}": "Rubbish dumped on an empty lot on {street}",
    "Pembakaran sampah": "Rubbish burning",
    "Warga membakar sampah, asap mengganggu di Kec. {kec}": "Rubbish being burnt, smoke a nuisance in {kec}",
    # a complaint app's reports
    "Saluran air tersumbat dan meluap di {street}": "Drain blocked and overflowing on {street}",
    "Sampah belum diangkut {days} hari di {street}": "Rubbish not collected for {days} days on {street}",
    "Jalan rusak dan berlubang di {street}": "Road damaged and potholed on {street}",
    "Aspal jalan amblas di {street}": "Road surface collapsed on {street}",
    "Lampu penerangan jalan mati di {street}": "Street light out on {street}",
}

#: What a city that names none has on its roads and where its traffic heads, in English.
VEHICLES_EN = ("motorcycle", "car", "lorry", "minibus", "pickup")
DESTINATIONS_EN = ("the city centre",)


def say(text: str, language: str) -> str:
    """``text`` in ``language``: its English for ``en``, itself otherwise (or when none is known)."""
    return ENGLISH.get(text, text) if language == "en" else text
