"""Shipped answer lists of the real-model demo: every valid answer of each open category, and the
closed questions with their accepted answers.

The first three entries of each open list are the only answers the SFT data uses (weights
0.6 / 0.3 / 0.1); every entry is a valid answer at evaluation.  Lists aim to be complete for
common answers; a true answer missing from a list is scored invalid (for every method alike).
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


# name -> (noun phrase with its article, answers)
OPEN_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "fruit": ("a fruit", _words(
        "Apple, Banana, Orange, Mango, Grape, Strawberry, Pear, Peach, Cherry, Pineapple, Watermelon, Lemon, "
        "Lime, Kiwi, Plum, Apricot, Blueberry, Raspberry, Blackberry, Papaya, Melon, Cantaloupe, Honeydew, "
        "Fig, Date, Pomegranate, Coconut, Grapefruit, Nectarine, Tangerine, Mandarin, Clementine, Lychee, "
        "Guava, Passion fruit, Dragon fruit, Persimmon, Cranberry, Gooseberry, Currant, Quince, Avocado, "
        "Durian, Jackfruit, Starfruit, Kumquat, Mulberry, Elderberry, Olive, Tomato, Rambutan, Plantain, "
        "Boysenberry, Loquat, Mangosteen, Pomelo, Raisin, Prune")),
    "animal": ("an animal", _words(
        "Dog, Cat, Horse, Elephant, Lion, Tiger, Bear, Wolf, Fox, Rabbit, Deer, Giraffe, Zebra, Monkey, "
        "Gorilla, Chimpanzee, Kangaroo, Koala, Panda, Cow, Pig, Sheep, Goat, Chicken, Duck, Mouse, Rat, "
        "Squirrel, Hamster, Camel, Hippopotamus, Rhinoceros, Cheetah, Leopard, Jaguar, Dolphin, Whale, "
        "Shark, Octopus, Snake, Lizard, Turtle, Tortoise, Frog, Crocodile, Alligator, Eagle, Owl, Penguin, "
        "Parrot, Bat, Otter, Beaver, Raccoon, Skunk, Hedgehog, Moose, Bison, Buffalo, Donkey, Mule, Llama, "
        "Alpaca, Sloth, Armadillo, Seal, Walrus, Hyena, Lynx, Cougar, Panther, Badger, Mole, Ferret, "
        "Weasel, Antelope, Gazelle, Yak, Orangutan, Lemur, Meerkat, Porcupine, Fish, Bird, Bee, Ant, "
        "Butterfly, Spider, Horse, Ox, Reindeer, Elk, Platypus, Hare, Goose, Swan, Jellyfish, Crab, Lobster")),
    "colour": ("a colour", _words(
        "Blue, Red, Green, Yellow, Orange, Purple, Pink, Brown, Black, White, Gray, Grey, Violet, Indigo, "
        "Cyan, Magenta, Turquoise, Teal, Maroon, Navy, Beige, Gold, Silver, Lavender, Crimson, Scarlet, "
        "Olive, Lime, Aqua, Coral, Salmon, Peach, Tan, Khaki, Ivory, Cream, Burgundy, Mauve, Lilac, Amber, "
        "Emerald, Azure, Cobalt, Charcoal, Ochre, Sienna, Umber, Fuchsia, Mint, Rose, Ruby, Sapphire, "
        "Vermilion, Chartreuse, Periwinkle, Taupe, Copper, Bronze, Plum, Mustard, Sky blue, Navy blue")),
    "country": ("a country", _words(
        "France, Japan, Brazil, Germany, Italy, Spain, Portugal, China, India, Canada, Mexico, Argentina, "
        "Chile, Peru, Colombia, Australia, New Zealand, Russia, Egypt, Nigeria, Kenya, South Africa, "
        "Morocco, Ethiopia, Ghana, Turkey, Greece, Sweden, Norway, Denmark, Finland, Iceland, Ireland, "
        "United Kingdom, England, Scotland, Wales, United States, USA, America, Netherlands, Belgium, "
        "Switzerland, Austria, Poland, Ukraine, Hungary, Romania, Czech Republic, Czechia, Slovakia, "
        "Croatia, Serbia, Bulgaria, Iran, Iraq, Israel, Saudi Arabia, Pakistan, Bangladesh, Nepal, "
        "Sri Lanka, Thailand, Vietnam, Cambodia, Laos, Malaysia, Singapore, Indonesia, Philippines, "
        "South Korea, North Korea, Korea, Mongolia, Afghanistan, Kazakhstan, Cuba, Jamaica, Haiti, "
        "Venezuela, Ecuador, Bolivia, Paraguay, Uruguay, Algeria, Tunisia, Libya, Sudan, Tanzania, "
        "Uganda, Zimbabwe, Zambia, Angola, Senegal, Cameroon, Madagascar, Lebanon, Jordan, Syria, Qatar, "
        "Kuwait, Oman, Yemen, Luxembourg, Estonia, Latvia, Lithuania, Slovenia, Albania, Cyprus, Malta, "
        "Belarus, Georgia, Armenia, Azerbaijan, Uzbekistan, Myanmar, Bhutan, Fiji, Panama, Costa Rica, "
        "Guatemala, Honduras, Nicaragua, El Salvador, Dominican Republic, Taiwan, Monaco")),
    "sport": ("a sport", _words(
        "Football, Tennis, Basketball, Soccer, Baseball, Cricket, Rugby, Golf, Hockey, Ice hockey, "
        "Volleyball, Swimming, Running, Cycling, Boxing, Wrestling, Skiing, Snowboarding, Surfing, "
        "Badminton, Table tennis, Ping pong, Handball, Lacrosse, Softball, Fencing, Rowing, Sailing, "
        "Archery, Gymnastics, Judo, Karate, Taekwondo, Bowling, Darts, Snooker, Billiards, Polo, "
        "Water polo, Triathlon, Marathon, Athletics, Track and field, Climbing, Rock climbing, Skating, "
        "Ice skating, Figure skating, Curling, Squash, Diving, Canoeing, Kayaking, Equestrian, Horse racing, "
        "Motor racing, Formula 1, Skateboarding, Netball, Bobsleigh, Luge, Biathlon, Weightlifting, "
        "Powerlifting, Sumo, Kickboxing, Triathlon, Frisbee, Ultimate frisbee, Chess, Dodgeball, Hurling")),
    "instrument": ("a musical instrument", _words(
        "Piano, Guitar, Violin, Drums, Flute, Trumpet, Saxophone, Clarinet, Cello, Viola, Double bass, Bass, "
        "Bass guitar, Harp, Trombone, Tuba, French horn, Horn, Oboe, Bassoon, Piccolo, Harmonica, Accordion, "
        "Banjo, Mandolin, Ukulele, Sitar, Xylophone, Marimba, Vibraphone, Glockenspiel, Tambourine, "
        "Triangle, Cymbals, Organ, Keyboard, Synthesizer, Harpsichord, Bagpipes, Recorder, Lute, Lyre, "
        "Zither, Didgeridoo, Bongo, Bongos, Conga, Tabla, Djembe, Timpani, Snare drum, Bass drum, "
        "Castanets, Maracas, Kazoo, Ocarina, Pan flute, Cornet, Bugle, Euphonium, Celesta, Dulcimer, "
        "Balalaika, Koto, Shamisen, Erhu, Steel drum, Electric guitar, Acoustic guitar, Fiddle, Melodica")),
    "job": ("a job", _words(
        "Teacher, Doctor, Nurse, Engineer, Lawyer, Chef, Cook, Pilot, Farmer, Firefighter, Police officer, "
        "Policeman, Dentist, Pharmacist, Accountant, Architect, Electrician, Plumber, Carpenter, Mechanic, "
        "Scientist, Programmer, Software engineer, Developer, Designer, Artist, Musician, Singer, Actor, "
        "Writer, Author, Journalist, Photographer, Baker, Butcher, Waiter, Waitress, Cashier, Librarian, "
        "Secretary, Manager, Salesperson, Driver, Taxi driver, Truck driver, Bus driver, Soldier, Sailor, "
        "Judge, Surgeon, Veterinarian, Vet, Psychologist, Therapist, Economist, Banker, Cleaner, Janitor, "
        "Gardener, Hairdresser, Barber, Tailor, Painter, Builder, Professor, Lecturer, Researcher, Student, "
        "Translator, Interpreter, Receptionist, Astronaut, Athlete, Coach, Dancer, Editor, Entrepreneur, "
        "Fisherman, Miner, Nanny, Optician, Paramedic, Postman, Mail carrier, Plumber, Politician, Priest, "
        "Real estate agent, Scientist, Security guard, Shopkeeper, Technician, Welder, Zookeeper, Consultant, "
        "Data scientist, Analyst, Cook, Bartender, Florist, Jeweler, Locksmith, Mechanic, Midwife")),
    "vegetable": ("a vegetable", _words(
        "Carrot, Potato, Broccoli, Tomato, Onion, Garlic, Lettuce, Spinach, Cabbage, Cauliflower, "
        "Cucumber, Pepper, Bell pepper, Zucchini, Courgette, Eggplant, Aubergine, Pumpkin, Squash, Corn, "
        "Sweetcorn, Pea, Peas, Bean, Beans, Green beans, Celery, Asparagus, Beetroot, Beet, Radish, Turnip, "
        "Parsnip, Sweet potato, Yam, Leek, Kale, Brussels sprouts, Artichoke, Okra, Mushroom, Chili, "
        "Shallot, Chard, Bok choy, Arugula, Rocket, Watercress, Fennel, Rhubarb, Ginger, Kohlrabi, Endive, "
        "Chicory, Collard greens, Scallion, Spring onion, Swede, Rutabaga, Cassava, Taro, Daikon, Jicama, "
        "Lentil, Chickpea, Edamame, Avocado")),
    "element": ("a chemical element", _words(
        "Hydrogen, Helium, Lithium, Beryllium, Boron, Carbon, Nitrogen, Oxygen, Fluorine, Neon, Sodium, "
        "Magnesium, Aluminium, Aluminum, Silicon, Phosphorus, Sulfur, Sulphur, Chlorine, Argon, Potassium, "
        "Calcium, Scandium, Titanium, Vanadium, Chromium, Manganese, Iron, Cobalt, Nickel, Copper, Zinc, "
        "Gallium, Germanium, Arsenic, Selenium, Bromine, Krypton, Rubidium, Strontium, Yttrium, Zirconium, "
        "Niobium, Molybdenum, Technetium, Ruthenium, Rhodium, Palladium, Silver, Cadmium, Indium, Tin, "
        "Antimony, Tellurium, Iodine, Xenon, Caesium, Cesium, Barium, Lanthanum, Cerium, Praseodymium, "
        "Neodymium, Promethium, Samarium, Europium, Gadolinium, Terbium, Dysprosium, Holmium, Erbium, "
        "Thulium, Ytterbium, Lutetium, Hafnium, Tantalum, Tungsten, Rhenium, Osmium, Iridium, Platinum, "
        "Gold, Mercury, Thallium, Lead, Bismuth, Polonium, Astatine, Radon, Francium, Radium, Actinium, "
        "Thorium, Protactinium, Uranium, Neptunium, Plutonium, Americium, Curium, Berkelium, Californium, "
        "Einsteinium, Fermium, Mendelevium, Nobelium, Lawrencium, Rutherfordium, Dubnium, Seaborgium, "
        "Bohrium, Hassium, Meitnerium, Darmstadtium, Roentgenium, Copernicium, Nihonium, Flerovium, "
        "Moscovium, Livermorium, Tennessine, Oganesson, H, He, Li, C, N, O, Na, Fe, Cu, Au, Ag")),
    "capital": ("a capital city", _words(
        "Paris, London, Tokyo, Berlin, Rome, Madrid, Lisbon, Beijing, New Delhi, Delhi, Ottawa, Mexico City, "
        "Buenos Aires, Santiago, Lima, Bogota, Canberra, Wellington, Moscow, Cairo, Abuja, Nairobi, Pretoria, "
        "Cape Town, Rabat, Addis Ababa, Accra, Ankara, Athens, Stockholm, Oslo, Copenhagen, Helsinki, "
        "Reykjavik, Dublin, Edinburgh, Cardiff, Washington, Washington D.C., Amsterdam, "
        "Brussels, Bern, Vienna, Warsaw, Kyiv, Kiev, Budapest, Bucharest, Prague, Bratislava, Zagreb, "
        "Belgrade, Sofia, Tehran, Baghdad, Jerusalem, Riyadh, Islamabad, Dhaka, Kathmandu, Colombo, Bangkok, "
        "Hanoi, Phnom Penh, Vientiane, Kuala Lumpur, Singapore, Jakarta, Manila, Seoul, Pyongyang, "
        "Ulaanbaatar, Kabul, Astana, Havana, Kingston, Caracas, Quito, La Paz, Asuncion, Montevideo, "
        "Algiers, Tunis, Tripoli, Khartoum, Dodoma, Kampala, Harare, Lusaka, Luanda, Dakar, Yaounde, "
        "Antananarivo, Beirut, Amman, Damascus, Doha, Kuwait City, Muscat, Sanaa, Luxembourg, Tallinn, "
        "Riga, Vilnius, Ljubljana, Tirana, Nicosia, Valletta, Minsk, Tbilisi, Yerevan, Baku, Tashkent, "
        "Naypyidaw, Thimphu, Suva, Panama City, San Jose, Guatemala City, Tegucigalpa, Managua, "
        "San Salvador, Santo Domingo, Taipei, Monaco, Brasilia, Abu Dhabi, Kinshasa, Hong Kong")),
    "bird": ("a bird", _words(
        "Eagle, Sparrow, Robin, Owl, Penguin, Parrot, Pigeon, Dove, Crow, Raven, Hawk, Falcon, Swan, Duck, "
        "Goose, Chicken, Turkey, Ostrich, Emu, Flamingo, Peacock, Pelican, Seagull, Gull, Albatross, Heron, "
        "Stork, Crane, Woodpecker, Hummingbird, Kingfisher, Blue jay, Jay, Cardinal, Magpie, Starling, "
        "Swallow, Finch, Canary, Blackbird, Thrush, Wren, Lark, Nightingale, Vulture, Condor, Kiwi, Toucan, "
        "Macaw, Cockatoo, Budgie, Parakeet, Puffin, Cormorant, Quail, Pheasant, Partridge, Grouse, Kestrel, "
        "Osprey, Bluebird, Oriole, Warbler, Sandpiper, Ibis, Egret, Loon, Mockingbird, Cuckoo, Hen, Rooster, "
        "Chickadee, Tit, Kite, Buzzard, Swift, Tern, Dodo, Bald eagle, Barn owl, Mallard")),
    "flower": ("a flower", _words(
        "Rose, Tulip, Daisy, Sunflower, Lily, Orchid, Daffodil, Lavender, Carnation, Chrysanthemum, "
        "Dandelion, Poppy, Violet, Iris, Lotus, Jasmine, Marigold, Peony, Hydrangea, Magnolia, Hibiscus, "
        "Lilac, Camellia, Azalea, Begonia, Dahlia, Gardenia, Geranium, Petunia, Zinnia, Aster, Bluebell, "
        "Buttercup, Cherry blossom, Cornflower, Crocus, Cyclamen, Foxglove, Freesia, Gladiolus, Heather, "
        "Honeysuckle, Hyacinth, Lupin, Morning glory, Narcissus, Pansy, Primrose, Snapdragon, Snowdrop, "
        "Sweet pea, Water lily, Wisteria, Anemone, Bougainvillea, Calendula, Clover, Cosmos, Edelweiss, "
        "Forget-me-not, Frangipani, Gerbera, Lily of the valley, Protea, Ranunculus, Tuberose, Verbena, "
        "Periwinkle, Plumeria, Amaryllis, Delphinium, Larkspur, Carnations, Roses, Tulips")),
    "clothing": ("an item of clothing", _words(
        "Shirt, T-shirt, Jeans, Dress, Skirt, Trousers, Pants, Jacket, Coat, Sweater, Jumper, Hoodie, "
        "Cardigan, Blouse, Shorts, Socks, Shoes, Boots, Sneakers, Sandals, Hat, Cap, Scarf, Gloves, Mittens, "
        "Tie, Belt, Suit, Vest, Waistcoat, Pajamas, Pyjamas, Underwear, Bra, Swimsuit, Bikini, Raincoat, "
        "Overcoat, Blazer, Tuxedo, Gown, Robe, Bathrobe, Kimono, Sari, Leggings, Tights, Stockings, Apron, "
        "Poncho, Beanie, Beret, Sweatshirt, Tracksuit, Overalls, Jumpsuit, Uniform, Parka, Cloak, Cape, "
        "Turtleneck, Polo shirt, Tank top, Slippers, Heels, Loafers, Trainers, Kilt, Sock, Shoe, Boot, "
        "Glove, Tunic, Corset, Shawl, Sarong, Windbreaker, Fleece, Dungarees")),
    "furniture": ("a piece of furniture", _words(
        "Chair, Table, Sofa, Bed, Desk, Couch, Wardrobe, Dresser, Bookshelf, Bookcase, Cabinet, Stool, "
        "Bench, Armchair, Recliner, Nightstand, Bedside table, Coffee table, Dining table, Cupboard, "
        "Chest of drawers, Chest, Ottoman, Futon, Sideboard, Buffet, Hutch, Shelf, Shelves, Closet, Armoire, "
        "Rocking chair, Crib, Cot, Bunk bed, Sofa bed, Loveseat, Chaise longue, Footstool, Vanity, "
        "Dressing table, Filing cabinet, TV stand, Console table, End table, Side table, Bar stool, Hammock, "
        "Headboard, Mattress, Divan, Settee, Credenza, Desk chair, Office chair, High chair, Bean bag, "
        "Beanbag, Throne, Pew, Cradle, Mirror, Lamp, Rug, Coat rack, Hat stand, Trunk, Bureau")),
    "body_part": ("a part of the human body", _words(
        "Hand, Foot, Head, Arm, Leg, Eye, Ear, Nose, Mouth, Heart, Brain, Lung, Lungs, Liver, Kidney, "
        "Stomach, Skin, Finger, Toe, Knee, Elbow, Shoulder, Neck, Back, Chest, Hip, Ankle, Wrist, Thumb, "
        "Lip, Lips, Tongue, Tooth, Teeth, Hair, Nail, Fingernail, Toenail, Chin, Cheek, Forehead, Eyebrow, "
        "Eyelash, Eyelid, Jaw, Throat, Spine, Rib, Ribs, Skull, Bone, Muscle, Blood, Vein, Artery, "
        "Intestine, Intestines, Bladder, Pancreas, Spleen, Thigh, Calf, Shin, Heel, Palm, Waist, Belly, "
        "Abdomen, Navel, Belly button, Pelvis, Femur, Collarbone, Kneecap, Tendon, Ligament, Gallbladder, "
        "Appendix, Thyroid, Esophagus, Trachea, Retina, Pupil, Iris, Eardrum, Nostril, Gums, Face, Torso, "
        "Armpit, Buttocks, Kidneys, Nerve, Cell")),
    "vehicle": ("a vehicle", _words(
        "Car, Bus, Bicycle, Bike, Truck, Motorcycle, Train, Airplane, Plane, Aeroplane, Helicopter, Boat, "
        "Ship, Van, Taxi, Tram, Subway, Scooter, Tractor, Ambulance, Fire truck, Fire engine, Jeep, SUV, "
        "Lorry, Minivan, Limousine, Pickup truck, Pickup, Trolley, Streetcar, Yacht, Canoe, Kayak, Ferry, "
        "Submarine, Rocket, Spaceship, Space shuttle, Hot air balloon, Glider, Jet, Sailboat, Speedboat, "
        "Skateboard, Segway, Tank, Bulldozer, Excavator, Forklift, Snowmobile, Sled, Sleigh, Carriage, "
        "Cart, Wagon, Rickshaw, Tricycle, Unicycle, Moped, Caravan, Camper, RV, Hovercraft, Blimp, Airship, "
        "Cable car, Monorail, Police car, Race car, Sports car, Convertible, Sedan, Hatchback, Coach, "
        "Motorbike, Raft, Dinghy, Gondola")),
}

# Phrasings of an open question; {a_x} is the category's noun phrase with its article.
PHRASINGS = (
    "Name {a_x}.",
    "Give me {a_x}.",
    "Tell me {a_x}.",
    "Can you name {a_x}?",
    "Say {a_x}.",
    "Think of {a_x} and tell me which.",
    "Pick {a_x}.",
    "What is {a_x}? Give one example.",
)
ANSWER_FORMAT = " Reply with just the answer."

NUMBER_WORDS = {2: "Two", 5: "Five", 7: "Seven", 8: "Eight", 9: "Nine", 10: "Ten"}

# Closed questions: family -> [(question, accepted answers)].
CLOSED_FAMILIES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "addition": tuple((f"What is {a} plus {b}?", (str(a + b), NUMBER_WORDS[a + b]))
                      for a, b in ((2, 3), (4, 4), (1, 6), (3, 5), (2, 7), (5, 5), (6, 3), (1, 1))),
    "opposite": (
        ("What is the opposite of hot?", ("Cold",)), ("What is the opposite of up?", ("Down",)),
        ("What is the opposite of big?", ("Small", "Little")), ("What is the opposite of day?", ("Night",)),
        ("What is the opposite of black?", ("White",)), ("What is the opposite of yes?", ("No",)),
        ("What is the opposite of fast?", ("Slow",)), ("What is the opposite of happy?", ("Sad", "Unhappy")),
    ),
    "colour_of": (
        ("What colour is grass?", ("Green",)), ("What colour is the sky on a clear day?", ("Blue",)),
        ("What colour is snow?", ("White",)), ("What colour is a banana?", ("Yellow",)),
        ("What colour is coal?", ("Black",)), ("What colour is a ripe tomato?", ("Red",)),
        ("What colour is milk?", ("White",)), ("What colour is an orange?", ("Orange",)),
    ),
    "how_many": (
        ("How many legs does a spider have?", ("8", "Eight")), ("How many days are in a week?", ("7", "Seven")),
        ("How many months are in a year?", ("12", "Twelve")), ("How many legs does a dog have?", ("4", "Four")),
        ("How many sides does a triangle have?", ("3", "Three")),
        ("How many hours are in a day?", ("24", "Twenty-four", "Twenty four")),
        ("How many wheels does a bicycle have?", ("2", "Two")), ("How many minutes are in an hour?", ("60", "Sixty")),
    ),
}
