"""Shipped answer lists of the real-model demo: every valid answer of each open category, and the
closed questions with their accepted answers.

The first three entries of each open list are the only answers the SFT data uses (weights
0.6 / 0.3 / 0.1); every entry is a valid answer at evaluation.  Lists aim to be complete for
common answers; a true answer missing from a list is scored invalid (for every method alike).

Protocol v2 review (issue 15, frozen before any v2 result was seen): ``V2_ADDED`` holds answers a
reasonable person would accept that v1 lacked (UK, US, ostrich, snail, salmon, ...); spellings of
one answer are grouped (``SAME_ANSWER``, regular and irregular plurals of common nouns), so that
"USA" and "United States", or "Dog" and "Dogs", count as one answer when diversity is measured.
A grouped entry is written "Spelling|Other spelling" (the ``ts2 compare`` format for one answer
with several spellings); its first spelling is the one SFT uses.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


# name -> (noun phrase with its article, answers)
_V1_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
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

V2_ADDED: dict[str, str] = {
    "fruit": "Blackcurrant, Redcurrant, Sultana, Tamarind, Ackee, Breadfruit, Feijoa, Cherimoya, Custard apple, "
             "Soursop, Longan, Jujube, Yuzu, Bilberry, Huckleberry, Cloudberry, Lingonberry, Acai, Physalis, "
             "Pitaya, Blood orange, Satsuma, Ugli fruit, Berry, Tangelo, Citron, Medlar, Salak",
    "animal": "Snail, Salmon, Ostrich, Tuna, Trout, Cod, Eel, Worm, Earthworm, Slug, Squid, Starfish, Shrimp, "
              "Prawn, Oyster, Clam, Mussel, Beetle, Ladybug, Ladybird, Fly, Mosquito, Wasp, Moth, Grasshopper, "
              "Cricket, Caterpillar, Scorpion, Toad, Newt, Salamander, Iguana, Chameleon, Gecko, Python, Cobra, "
              "Viper, Hawk, Pigeon, Crow, Sparrow, Turkey, Peacock, Flamingo, Emu, Vulture, Guinea pig, Gerbil, "
              "Chinchilla, Wombat, Possum, Opossum, Tapir, Warthog, Wildebeest, Okapi, Mongoose, Jackal, Coyote, "
              "Dingo, Manatee, Narwhal, Orca, Killer whale, Sea lion, Puppy, Kitten, Lamb, Pony, Bull, Puma, "
              "Mink, Stoat, Vole, Shrew, Hippo, Rhino, Chimp, Insect, Reptile, Mammal, Goldfish, Parakeet, "
              "Swan, Dove, Hen, Rooster, Calf, Piglet, Stallion, Mare, Bunny, Kitty, Polar bear, Grizzly bear, "
              "Brown bear, Blue whale, Sea turtle, Seahorse, Clownfish, Stingray, Hummingbird, Tarantula",
    "colour": "Light blue, Dark blue, Light green, Dark green, Pale blue, Royal blue, Baby blue, Sea green, "
              "Forest green, Olive green, Lime green, Hot pink, Baby pink, Cherry red, Brick red, Rust, Terracotta, "
              "Sand, Sepia, Jade, Cerulean, Ultramarine, Prussian blue, Ebony, Jet black, Off-white, Eggshell, "
              "Pearl, Platinum, Honey, Caramel, Chocolate, Coffee, Mocha, Apricot, Tangerine, Lemon, "
              "Canary yellow, Orchid, Amethyst, Aubergine, Raspberry, Blush, Champagne, Brass, Gunmetal, Slate, "
              "Steel blue, Denim, Aquamarine, Topaz, Auburn, Chestnut, Mahogany, Russet, Light pink, Dark red, "
              "Neon green, Sky, Wine, Cinnamon",
    "country": "UK, U.K., Britain, Great Britain, US, U.S., U.S.A., United States of America, Holland, "
               "The Netherlands, Vatican City, San Marino, Liechtenstein, Andorra, Moldova, North Macedonia, "
               "Macedonia, Bosnia and Herzegovina, Bosnia, Montenegro, Kosovo, Turkmenistan, Kyrgyzstan, "
               "Tajikistan, Brunei, East Timor, Timor-Leste, Papua New Guinea, Samoa, Tonga, Bahamas, "
               "The Bahamas, Barbados, Trinidad and Tobago, Belize, Guyana, Suriname, Mali, Niger, Chad, Somalia, "
               "Eritrea, Djibouti, Rwanda, Burundi, Malawi, Mozambique, Botswana, Namibia, Lesotho, Eswatini, "
               "Swaziland, Gabon, Congo, Democratic Republic of the Congo, DRC, Ivory Coast, Côte d'Ivoire, "
               "Liberia, Sierra Leone, Guinea, Benin, Togo, Burkina Faso, Mauritania, Mauritius, Seychelles, "
               "Maldives, Bahrain, United Arab Emirates, UAE, Palestine, Russian Federation, Türkiye, Turkiye, "
               "Burma, Republic of Korea, Vanuatu, Solomon Islands, Kiribati, Tuvalu, Nauru, Palau, Grenada, "
               "Dominica, Saint Lucia, Antigua and Barbuda, Cape Verde, South Sudan, Equatorial Guinea, Gambia, "
               "Guinea-Bissau, Comoros, Central African Republic, Sao Tome and Principe, Northern Ireland",
    "sport": "American football, Jogging, Hiking, Mountain biking, BMX, Motocross, Rally, NASCAR, Esports, "
             "Paddleboarding, Kitesurfing, Windsurfing, Water skiing, Wakeboarding, Parkour, Bouldering, "
             "Jiu-jitsu, Mixed martial arts, MMA, Muay Thai, Kung fu, Aikido, Sprinting, Long jump, High jump, "
             "Pole vault, Javelin, Discus, Shot put, Hammer throw, Decathlon, Heptathlon, Pentathlon, "
             "Orienteering, Fishing, Racquetball, Pickleball, Padel, Rounders, Gaelic football, "
             "Australian rules football, Kabaddi, Bandy, Floorball, Korfball, Croquet, Bocce, Petanque, "
             "Cheerleading, Ski jumping, Cross-country skiing, Speed skating, Skeleton, Freestyle skiing, "
             "Formula One, F1, Martial arts, Jumping, Horse riding, Horseback riding, Riding, Mountaineering, "
             "Field hockey, Beach volleyball, Baseketball, Softball, Trampolining, Synchronized swimming, "
             "Hurdles, Yoga",
    "instrument": "Drum, Bell, Bells, Gong, Chimes, Cowbell, Woodblock, Theremin, Hurdy-gurdy, Bagpipe, "
                  "Sousaphone, Flugelhorn, Alto saxophone, Tenor saxophone, Contrabassoon, English horn, "
                  "Cor anglais, Pipe organ, Electric piano, Grand piano, Clavichord, Kalimba, Mbira, Steelpan, "
                  "Oud, Bouzouki, Charango, Shakuhachi, Guzheng, Pipa, Santoor, Sarod, Veena, Harmonium, "
                  "Concertina, Tin whistle, Penny whistle, Fife, Panpipes, Bodhran, Cajon, Timbales, Guiro, "
                  "Claves, Washboard, Jaw harp, Drum kit, Drum set, Keytar, Electric bass, Contrabass, "
                  "Upright bass, Sax, Tom-tom, Hi-hat, Spinet, Autoharp, Shofar, Vuvuzela",
    "job": "Software developer, Web developer, Data analyst, Physiotherapist, Social worker, Counselor, "
           "Psychiatrist, Construction worker, Bricklayer, Roofer, Flight attendant, Air traffic controller, "
           "Train driver, Rancher, Lumberjack, Barista, Sommelier, Dishwasher, Housekeeper, Maid, Babysitter, "
           "Tutor, Principal, Headteacher, Biologist, Chemist, Physicist, Mathematician, Statistician, "
           "Geologist, Astronomer, Archaeologist, Historian, Auditor, Stockbroker, Financial advisor, "
           "Insurance agent, Attorney, Paralegal, Detective, Police, Cop, Fireman, Mailman, Physician, Guard, "
           "Bodyguard, Spy, Diplomat, Ambassador, Mayor, President, Senator, Civil servant, Clerk, "
           "Administrator, CEO, Executive, Salesman, Shop assistant, Delivery driver, Courier, Chauffeur, "
           "Civil engineer, Mechanical engineer, Electrical engineer, Interior designer, Graphic designer, "
           "Fashion designer, Model, Actress, Director, Producer, Composer, Conductor, DJ, Comedian, "
           "Magician, Clown, Animator, Illustrator, Sculptor, Poet, Novelist, Blogger, Reporter, News anchor, "
           "Cameraman, Optometrist, Caregiver, Lab technician, Radiologist, Anesthesiologist, Pediatrician, "
           "Park ranger, Lifeguard, Personal trainer, Referee, Footballer, Jockey, Monk, Nun, Rabbi, Imam, "
           "Pastor, Minister, Missionary, Seamstress, Shoemaker, Cobbler, Blacksmith, Potter, Jeweller, "
           "Watchmaker, Brewer, Winemaker, Beekeeper, Landscaper, Custodian, Garbage collector, Decorator, "
           "Warehouse worker, Factory worker, Machinist, Captain, Stewardess, Hairstylist, Stylist, "
           "Beautician, Makeup artist, Massage therapist, Dietitian, Nutritionist, Surveyor, Pilot, "
           "Web designer, Game developer, Coder, Computer programmer, IT technician, Mechanic, Carpenter",
    "vegetable": "Sweet pepper, Red pepper, Green pepper, Chili pepper, Chilli, Maize, Romaine, Iceberg lettuce, "
                 "Broad bean, Kidney bean, Black bean, Soybean, Runner bean, String bean, Snow pea, "
                 "Sugar snap pea, Celeriac, Horseradish, Wasabi, Water chestnut, Bamboo shoot, Bean sprouts, "
                 "Alfalfa, Pak choi, Napa cabbage, Red cabbage, Savoy cabbage, Butternut squash, Acorn squash, "
                 "Gourd, Bitter melon, Marrow, Cress, Sorrel, Mustard greens, Turnip greens, Olive, Plantain, "
                 "Green onion, Green bean, Capsicum, Jalapeno, Red onion, Radicchio, Lettuce, Courgettes",
    "element": "Aluminum, Sulphur, Cesium, Be, B, F, Ne, Mg, Al, Si, P, S, Cl, Ar, K, Ca, Zn, Pb, Hg, Sn, U, Pt",
    "capital": "Washington DC, Washington D.C, DC, Nur-Sultan, Vatican City, San Marino, Vaduz, Andorra la Vella, "
               "Chisinau, Skopje, Sarajevo, Podgorica, Pristina, Ashgabat, Bishkek, Dushanbe, "
               "Bandar Seri Begawan, Dili, Port Moresby, Apia, Nassau, Bridgetown, Port of Spain, Belmopan, "
               "Georgetown, Paramaribo, Bamako, Niamey, N'Djamena, Mogadishu, Asmara, Djibouti, Kigali, Gitega, "
               "Lilongwe, Maputo, Gaborone, Windhoek, Maseru, Mbabane, Libreville, Brazzaville, Yamoussoukro, "
               "Monrovia, Freetown, Conakry, Porto-Novo, Lome, Ouagadougou, Nouakchott, Port Louis, Male, "
               "Manama, Bogotá, Brasília, Asunción, Reykjavík, Yaoundé, San José, Belfast, Juba, Malabo, "
               "Banjul, Bissau, Moroni, Bangui, Praia, Sri Jayawardenepura Kotte",
    "bird": "Blue tit, Great tit, Goldfinch, Bullfinch, Chaffinch, Greenfinch, Nuthatch, Treecreeper, Dunnock, "
            "Yellowhammer, Skylark, Lapwing, Curlew, Plover, Avocet, Oystercatcher, Snipe, Woodcock, Coot, "
            "Moorhen, Grebe, Bittern, Spoonbill, Hornbill, Roadrunner, Kookaburra, Lyrebird, Bird of paradise, "
            "Cassowary, Rhea, Kakapo, Kea, Lovebird, Cockatiel, Mynah, Hoopoe, Bee-eater, Shrike, Drongo, "
            "Weaver, Sunbird, Tanager, Grosbeak, Junco, Grackle, Meadowlark, Nightjar, Frigatebird, Gannet, "
            "Booby, Petrel, Shearwater, Skua, Auk, Guillemot, Razorbill, Eider, Teal, Pintail, Merganser, "
            "Canada goose, Snowy owl, Golden eagle, Red-tailed hawk, Peregrine falcon, Harrier, Goshawk, "
            "Sparrowhawk, Secretary bird, Budgerigar, Red robin, Blue tit, Songbird, Raptor, Waxwing",
    "flower": "Bluebonnet, Black-eyed Susan, Bleeding heart, Buddleia, Calla lily, Canna, Clematis, Columbine, "
              "Coneflower, Echinacea, Gentian, Goldenrod, Hollyhock, Impatiens, Jonquil, Lantana, Lobelia, "
              "Mimosa, Nasturtium, Oleander, Passionflower, Phlox, Poinsettia, Rhododendron, Salvia, "
              "Sweet William, Thistle, Trillium, Wallflower, Yarrow, Alstroemeria, Anthurium, Bird of paradise, "
              "Apple blossom, Orange blossom, Sakura, Blossom, Bluebell, Camomile, Chamomile, Cornflower, "
              "Cosmos, Daisies, Lilies, Orchids, Sunflowers, Gerbera daisy, Pansies, Red rose, Fuchsia",
    "clothing": "Pullover, Jersey, Sweatpants, Joggers, Chinos, Khakis, Capris, Culottes, Crop top, Camisole, "
                "Bodysuit, Romper, Onesie, Pinafore, Sundress, Miniskirt, Maxi dress, Evening gown, "
                "Wedding dress, Veil, Headscarf, Hijab, Turban, Bandana, Balaclava, Earmuffs, Fedora, Top hat, "
                "Bowler hat, Cowboy hat, Sun hat, Baseball cap, Bow tie, Cravat, Suspenders, Braces, "
                "Nightgown, Nightie, Boxers, Briefs, Panties, Knickers, Lingerie, Thong, Swim trunks, Wetsuit, "
                "Flip-flops, Clogs, Moccasins, Espadrilles, Wellingtons, Wellies, Rain boots, Galoshes, "
                "Stilettos, Pumps, Oxfords, Brogues, Mules, Anorak, Duffle coat, Trench coat, Peacoat, "
                "Bomber jacket, Leather jacket, Denim jacket, Gilet, Body warmer, Dressing gown, Lab coat, "
                "Scrubs, Toga, Hanbok, Cheongsam, Dirndl, Lederhosen, Kaftan, Caftan, Dashiki, Abaya, Burqa, "
                "Leotard, Tutu, Tee, Tshirt, Tee shirt, Top, Trouser, Jean, Legging, Hat, Necktie, Sweatshirt",
    "furniture": "Bed frame, Daybed, Four-poster bed, Waterbed, Chaise, Chesterfield, Pouf, Pouffe, Tallboy, "
                 "Commode, Washstand, Writing desk, Standing desk, Display cabinet, China cabinet, "
                 "Curio cabinet, Wine rack, Shoe rack, Coat stand, Umbrella stand, Magazine rack, Room divider, "
                 "Kitchen table, Picnic table, Patio chair, Deck chair, Sun lounger, Lounger, Garden bench, "
                 "Porch swing, Changing table, Playpen, Bassinet, Sleeper sofa, Sectional, Murphy bed, "
                 "Trundle bed, Canopy bed, Folding chair, Lounge chair, Wingback chair, Dining chair, Bar cart, "
                 "Lectern, Plant stand, Drawers, Kitchen island, Easy chair, Sofa table, Double bed, "
                 "Single bed, King-size bed, Sofa chair, Couch table, Table lamp, Floor lamp, Bedstead",
    "body_part": "Forearm, Upper arm, Fist, Knuckle, Fingertip, Index finger, Pinky, Little finger, "
                 "Ring finger, Middle finger, Big toe, Sole, Hamstring, Quadriceps, Biceps, Triceps, Abs, "
                 "Glutes, Groin, Bottom, Tummy, Gut, Colon, Uterus, Womb, Ovary, Breast, Eyeball, Cornea, "
                 "Temple, Scalp, Adam's apple, Larynx, Voice box, Tonsils, Uvula, Palate, Sinus, Diaphragm, "
                 "Bone marrow, Cartilage, Vertebra, Sternum, Breastbone, Scapula, Shoulder blade, Tibia, Fibula, "
                 "Humerus, Radius, Ulna, Patella, Clavicle, Coccyx, Tailbone, Jawbone, Mandible, Cheekbone, Gum, "
                 "Feet, Hands, Eyes, Ears, Arms, Legs, Body, Organ, Limb, Joint, Skeleton, Backbone, Bowel",
    "vehicle": "Automobile, Electric car, Double-decker bus, School bus, Minibus, Trolleybus, Cement mixer, "
               "Dump truck, Tow truck, Garbage truck, Semi, Semi-truck, Tractor trailer, Ice cream van, "
               "Camper van, Motorhome, Quad bike, ATV, Go-kart, Dune buggy, Golf cart, Electric scooter, E-bike, "
               "Tandem, Mountain bike, Penny-farthing, Stagecoach, Chariot, Bullet train, Steam train, "
               "Locomotive, Freight train, Light rail, Funicular, Chairlift, Ski lift, Jet ski, Rowboat, "
               "Motorboat, Fishing boat, Tugboat, Barge, Cargo ship, Container ship, Tanker, Cruise ship, "
               "Ocean liner, Warship, Battleship, Aircraft carrier, Catamaran, Pedalo, Paddle boat, Airliner, "
               "Jet plane, Jetliner, Biplane, Seaplane, Fighter jet, Drone, Zeppelin, Spacecraft, Rover, "
               "Wheelchair, Stroller, Pram, Tuk-tuk, Auto rickshaw, Pedicab, Trailer, Snowplow, Humvee, Metro, "
               "Aircraft, Cycle, Automobile, Motor car, Underground, Tube, Railcar",
}

# Spellings of one answer, per category (v2 review): each group counts as one answer.
SAME_ANSWER: dict[str, tuple[str, ...]] = {
    "country": (
        "United Kingdom|UK|U.K.|Britain|Great Britain",
        "United States|USA|US|U.S.|U.S.A.|United States of America|America", "Netherlands|The Netherlands|Holland",
        "Czech Republic|Czechia", "Turkey|Türkiye|Turkiye", "Myanmar|Burma", "Russia|Russian Federation",
        "South Korea|Republic of Korea", "Ivory Coast|Côte d'Ivoire", "Eswatini|Swaziland",
        "East Timor|Timor-Leste", "United Arab Emirates|UAE", "Bahamas|The Bahamas",
        "Bosnia and Herzegovina|Bosnia", "North Macedonia|Macedonia", "Democratic Republic of the Congo|DRC",
    ),
    "colour": (
        "Gray|Grey",
    ),
    "element": (
        "Aluminium|Aluminum", "Sulfur|Sulphur", "Caesium|Cesium", "Hydrogen|H", "Helium|He", "Lithium|Li",
        "Beryllium|Be", "Boron|B", "Carbon|C", "Nitrogen|N", "Oxygen|O", "Fluorine|F", "Neon|Ne", "Sodium|Na",
        "Magnesium|Mg", "Silicon|Si", "Phosphorus|P", "Chlorine|Cl", "Argon|Ar", "Potassium|K", "Calcium|Ca",
        "Iron|Fe", "Copper|Cu", "Zinc|Zn", "Silver|Ag", "Tin|Sn", "Gold|Au", "Mercury|Hg", "Lead|Pb",
        "Platinum|Pt", "Uranium|U",
    ),
    "capital": (
        "Kyiv|Kiev", "New Delhi|Delhi", "Astana|Nur-Sultan",
        "Washington|Washington D.C.|Washington DC|Washington D.C|DC", "Bogota|Bogotá", "Brasilia|Brasília",
        "Asuncion|Asunción", "Reykjavik|Reykjavík", "Yaounde|Yaoundé", "San Jose|San José",
    ),
    "sport": (
        "Table tennis|Ping pong", "Track and field|Athletics", "Formula 1|Formula One|F1",
        "Mixed martial arts|MMA", "Horse riding|Horseback riding|Riding|Equestrian", "Ultimate frisbee|Frisbee",
    ),
    "instrument": (
        "Drums|Drum", "Bagpipes|Bagpipe", "Steel drum|Steelpan", "Pan flute|Panpipes", "Saxophone|Sax",
        "English horn|Cor anglais", "Double bass|Contrabass|Upright bass", "Drum kit|Drum set", "Bongo|Bongos",
    ),
    "job": (
        "Police officer|Policeman|Police|Cop", "Firefighter|Fireman", "Postman|Mail carrier|Mailman",
        "Flight attendant|Stewardess", "Doctor|Physician", "Veterinarian|Vet", "Waiter|Waitress",
        "Lawyer|Attorney", "Actor|Actress", "Jeweler|Jeweller", "Janitor|Custodian", "Salesperson|Salesman",
        "Programmer|Coder|Computer programmer", "Headteacher|Principal",
    ),
    "vegetable": (
        "Corn|Sweetcorn|Maize", "Courgette|Zucchini", "Eggplant|Aubergine", "Arugula|Rocket",
        "Spring onion|Scallion|Green onion", "Swede|Rutabaga", "Beetroot|Beet", "Bok choy|Pak choi",
        "Chili|Chilli|Chili pepper", "Bell pepper|Sweet pepper|Capsicum", "Green beans|Green bean|String bean",
    ),
    "bird": (
        "Seagull|Gull", "Budgie|Budgerigar", "Robin|Red robin",
    ),
    "flower": (
        "Chamomile|Camomile", "Gerbera|Gerbera daisy",
    ),
    "clothing": (
        "T-shirt|Tee|Tshirt|Tee shirt", "Pajamas|Pyjamas", "Kaftan|Caftan", "Wellingtons|Wellies|Rain boots",
        "Suspenders|Braces", "Tie|Necktie", "Nightgown|Nightie",
    ),
    "furniture": (
        "Pouf|Pouffe", "Bookshelf|Bookcase", "Sofa bed|Sleeper sofa", "Beanbag|Bean bag",
    ),
    "body_part": (
        "Belly button|Navel", "Breastbone|Sternum", "Shoulder blade|Scapula", "Tailbone|Coccyx", "Kneecap|Patella",
        "Collarbone|Clavicle", "Jawbone|Mandible", "Voice box|Larynx", "Womb|Uterus", "Pinky|Little finger",
        "Spine|Backbone", "Esophagus|Oesophagus",
    ),
    "vehicle": (
        "Bicycle|Bike|Cycle", "Motorcycle|Motorbike", "Airplane|Aeroplane|Plane|Aircraft", "Truck|Lorry",
        "Fire truck|Fire engine", "Subway|Metro|Underground|Tube", "Car|Automobile|Motor car",
        "Pickup truck|Pickup", "Streetcar|Tram|Trolley", "Spaceship|Spacecraft", "Camper|Camper van|RV|Motorhome",
        "Semi|Semi-truck",
    ),
    "animal": (
        "Hippopotamus|Hippo", "Rhinoceros|Rhino", "Chimpanzee|Chimp", "Ladybug|Ladybird", "Possum|Opossum",
        "Orca|Killer whale", "Cougar|Puma", "Rabbit|Bunny", "Cat|Kitty",
    ),
}
IRREGULAR_PLURALS = {"Mouse": "Mice", "Goose": "Geese", "Tooth": "Teeth", "Foot": "Feet", "Ox": "Oxen",
                     "Wolf": "Wolves", "Calf": "Calves", "Knife": "Knives", "Louse": "Lice", "Man": "Men",
                     "Potato": "Potatoes", "Tomato": "Tomatoes", "Mango": "Mangoes", "Hero": "Heroes",
                     "Cactus": "Cacti", "Fungus": "Fungi", "Leaf": "Leaves", "Shelf": "Shelves",
                     "Wife": "Wives", "Thief": "Thieves", "Child": "Children", "Person": "People"}
# Common nouns: "Dogs" is as good an answer as "Dog" (a proper name such as a country takes no plural).
PLURAL_CATEGORIES = ("fruit", "animal", "instrument", "job", "vegetable", "bird", "flower", "clothing",
                     "furniture", "body_part", "vehicle")


def plural(word: str) -> str:
    """The regular English plural of a noun phrase (its last word), or an irregular one."""
    head, _, last = word.rpartition(" ")
    if last in IRREGULAR_PLURALS:
        form = IRREGULAR_PLURALS[last]
    elif last.endswith("man"):
        form = last[:-3] + "men"
    elif last.endswith("y") and len(last) > 1 and last[-2].lower() not in "aeiou":
        form = last[:-1] + "ies"
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        form = last + "es"
    else:
        form = last + "s"
    return f"{head} {form}" if head else form


def is_singular(word: str) -> bool:
    """False for words that already look plural ("Roses", "Jeans"); "Bus" and "Glass" are singular."""
    last = word.rpartition(" ")[2]
    return last not in IRREGULAR_PLURALS.values() and (not last.endswith("s") or last.endswith(("ss", "us")))


def group_spellings(category: str, answers, same_answer=None, plural_categories=None) -> tuple[str, ...]:
    """Answers merged into groups of spellings ("A|B"), in first-seen order; a group's first
    spelling is the first listed one.  Groups that share a spelling (case-insensitive) merge.
    ``same_answer`` / ``plural_categories`` default to this module's (v2) tables."""
    same_answer = SAME_ANSWER if same_answer is None else same_answer
    plural_categories = PLURAL_CATEGORIES if plural_categories is None else plural_categories
    spellings: list[list[str]] = []
    index: dict[str, int] = {}

    def add(group: list[str]) -> None:
        keys = {s.casefold() for s in group}
        hits = sorted({index[k] for k in keys if k in index})
        if not hits:
            spellings.append([])
            hits = [len(spellings) - 1]
        target = hits[0]
        for other in hits[1:]:  # a bridge between two groups: merge them into the earlier one
            spellings[target] += spellings[other]
            spellings[other] = []
        for s in [*group, *(x for other in hits[1:] for x in spellings[target])]:
            if s.casefold() not in {x.casefold() for x in spellings[target]}:
                spellings[target].append(s)
        for s in spellings[target]:
            index[s.casefold()] = target

    aliases = {}
    for group in same_answer.get(category, ()):
        names = group.split("|")
        for name in names:
            aliases[name.casefold()] = names
    for answer in answers:
        group = list(aliases.get(answer.casefold(), [answer]))
        if answer in group:  # the listed spelling first
            group.remove(answer)
        group.insert(0, answer)
        if category in plural_categories:
            group += [plural(s) for s in group if len(s) > 2 and is_singular(s)]
        add(group)
    return tuple("|".join(g) for g in spellings if g)


def first_spelling(entry: str) -> str:
    return entry.split("|")[0]


OPEN_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    name: (noun, group_spellings(name, (*answers, *_words(V2_ADDED.get(name, "")))))
    for name, (noun, answers) in _V1_CATEGORIES.items()
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
    # added for protocol v4 (fresh prompts no earlier run sampled)
    "Suggest {a_x}.",
    "Could you give me {a_x}?",
    "Come up with {a_x}.",
    "Mention {a_x}.",
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
