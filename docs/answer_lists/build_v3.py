"""Protocol v3's sixteen added open categories (issue 26), beside v2's sixteen (``answer_lists``).

Written and reviewed before any v3 result, then frozen in their own commit.  As in v2, the first
three entries of each list are the answers SFT uses (weights 0.6 / 0.3 / 0.1) and every entry is
a valid answer at evaluation.  The review rules, applied to every list:

* common answers first, and every answer a reasonable person would accept for the question
  "Name <noun phrase>." (a short noun phrase), so that a true answer missing from a list is rare;
* spellings and forms of one answer are one group ("Spelling|Other spelling"), so that they count
  once when diversity is measured: variants (Grey/Gray), abbreviations (VW/Volkswagen), adjective
  forms of an emotion (Happiness|Happy), and (for common nouns) regular and irregular plurals;
* no answer of one category is a spelling of another answer of the same category;
* closed, complete sets where the world has one (the 50 US states).
"""

from __future__ import annotations

from build_v2 import OPEN_CATEGORIES as V2_CATEGORIES
from build_v2 import PLURAL_CATEGORIES as V2_PLURAL_CATEGORIES
from build_v2 import SAME_ANSWER as V2_SAME_ANSWER
from build_v2 import _words, group_spellings

_V3_ADDED: dict[str, tuple[str, tuple[str, ...]]] = {
    "tree": ("a tree", _words(
        "Oak, Maple, Pine, Birch, Willow, Elm, Ash, Beech, Cedar, Spruce, Fir, Redwood, Sequoia, Cypress, "
        "Palm, Palm tree, Coconut palm, Date palm, Cherry, Cherry tree, Apple tree, Pear tree, Orange tree, "
        "Lemon tree, Olive tree, Fig tree, Peach tree, Plum tree, Chestnut, Horse chestnut, Walnut, Hazel, "
        "Hickory, Pecan, Sycamore, Poplar, Aspen, Cottonwood, Linden, Lime tree, Hornbeam, Alder, Larch, "
        "Hemlock, Yew, Juniper, Holly, Magnolia, Dogwood, Eucalyptus, Baobab, Banyan, Mahogany, Teak, "
        "Ebony, Rowan, Mountain ash, Hawthorn, Acacia, Jacaranda, Mango tree, Bamboo, Sugar maple, "
        "Red maple, Japanese maple, Weeping willow, Scots pine, Douglas fir, Christmas tree, Giant sequoia, "
        "Monkey puzzle, Ginkgo, Tamarind, Cork oak, Laurel, Bay tree, Buckeye, Catalpa, Mulberry tree, "
        "Tulip tree, Sweetgum, Boxwood, Blackthorn, Elder, Crabapple, Sassafras, Neem, Rubber tree, "
        "Joshua tree, Kapok, Cedar of Lebanon, Silver birch, Beech tree, Oak tree, Pine tree, Maple tree")),
    "dog_breed": ("a dog breed", _words(
        "Labrador, Golden Retriever, German Shepherd, Poodle, Bulldog, Beagle, Rottweiler, Dachshund, "
        "Boxer, Husky, Siberian Husky, Chihuahua, Pug, Border Collie, Collie, Dalmatian, Doberman, "
        "Great Dane, Shih Tzu, Yorkshire Terrier, Yorkie, Corgi, Pomeranian, Cocker Spaniel, Spaniel, "
        "Springer Spaniel, Cavalier King Charles Spaniel, Greyhound, Whippet, Saint Bernard, "
        "Bernese Mountain Dog, Newfoundland, Mastiff, Bull Terrier, Pit Bull, Staffordshire Bull Terrier, "
        "Jack Russell, Jack Russell Terrier, Terrier, Schnauzer, Maltese, Bichon Frise, Shiba Inu, Akita, "
        "Samoyed, Malamute, Alaskan Malamute, Chow Chow, Shar Pei, Basset Hound, Bloodhound, Bulldog, "
        "French Bulldog, English Bulldog, Boston Terrier, Weimaraner, Vizsla, Pointer, Setter, Irish Setter, "
        "Afghan Hound, Saluki, Borzoi, Irish Wolfhound, Great Pyrenees, Australian Shepherd, Sheepdog, "
        "Old English Sheepdog, Shetland Sheepdog, Sheltie, Labradoodle, Cockapoo, Goldendoodle, Papillon, "
        "Pekingese, Lhasa Apso, Westie, West Highland Terrier, Scottish Terrier, Cairn Terrier, "
        "Airedale, Basenji, Rhodesian Ridgeback, Retriever, Labrador Retriever, Doberman Pinscher, "
        "Miniature Pinscher, Cane Corso, Bullmastiff, Havanese, Keeshond, Hound, Foxhound, Coonhound")),
    "us_state": ("a US state", _words(
        "California, Texas, Florida, Alabama, Alaska, Arizona, Arkansas, Colorado, Connecticut, Delaware, "
        "Georgia, Hawaii, Idaho, Illinois, Indiana, Iowa, Kansas, Kentucky, Louisiana, Maine, Maryland, "
        "Massachusetts, Michigan, Minnesota, Mississippi, Missouri, Montana, Nebraska, Nevada, "
        "New Hampshire, New Jersey, New Mexico, New York, North Carolina, North Dakota, Ohio, Oklahoma, "
        "Oregon, Pennsylvania, Rhode Island, South Carolina, South Dakota, Tennessee, Utah, Vermont, "
        "Virginia, Washington, West Virginia, Wisconsin, Wyoming")),
    "language": ("a language", _words(
        "English, Spanish, French, German, Italian, Portuguese, Chinese, Mandarin, Cantonese, Japanese, "
        "Korean, Russian, Arabic, Hindi, Bengali, Urdu, Punjabi, Tamil, Telugu, Marathi, Gujarati, "
        "Persian, Farsi, Turkish, Greek, Latin, Hebrew, Dutch, Swedish, Norwegian, Danish, Finnish, "
        "Icelandic, Polish, Czech, Slovak, Hungarian, Romanian, Bulgarian, Serbian, Croatian, Ukrainian, "
        "Vietnamese, Thai, Indonesian, Malay, Tagalog, Filipino, Swahili, Zulu, Xhosa, Amharic, Yoruba, "
        "Hausa, Igbo, Somali, Irish, Gaelic, Welsh, Scottish Gaelic, Basque, Catalan, Galician, "
        "Esperanto, Sanskrit, Nepali, Sinhala, Burmese, Khmer, Lao, Mongolian, Kazakh, Uzbek, Georgian, "
        "Armenian, Albanian, Lithuanian, Latvian, Estonian, Slovenian, Maltese, Afrikaans, Pashto, "
        "Kurdish, Yiddish, Hawaiian, Maori, Quechua, Navajo, Cherokee, Sign language, Malayalam, Kannada")),
    "drink": ("a drink", _words(
        "Water, Coffee, Tea, Milk, Juice, Orange juice, Apple juice, Lemonade, Soda, Cola, Coke, Pepsi, "
        "Beer, Wine, Red wine, White wine, Champagne, Whisky, Whiskey, Vodka, Gin, Rum, Tequila, Brandy, "
        "Cider, Hot chocolate, Cocoa, Smoothie, Milkshake, Latte, Cappuccino, Espresso, Mocha, "
        "Americano, Green tea, Iced tea, Herbal tea, Chai, Sparkling water, Mineral water, Tonic water, "
        "Ginger ale, Root beer, Sprite, Fanta, Energy drink, Red Bull, Sports drink, Gatorade, "
        "Coconut water, Kombucha, Sake, Soju, Mead, Port, Sherry, Cocktail, Margarita, Mojito, Martini, "
        "Sangria, Punch, Eggnog, Lassi, Kefir, Buttermilk, Soy milk, Almond milk, Oat milk, Bubble tea, "
        "Matcha, Yerba mate, Grape juice, Cranberry juice, Tomato juice, Pineapple juice, Lemon water, "
        "Soft drink, Pop, Ale, Lager, Stout, Prosecco, Cognac, Bourbon, Scotch, Absinthe, Limeade")),
    "dessert": ("a dessert", _words(
        "Ice cream, Chocolate cake, Cheesecake, Cake, Pie, Apple pie, Brownie, Cookie, Pudding, Tiramisu, "
        "Creme brulee, Mousse, Chocolate mousse, Pavlova, Trifle, Sundae, Gelato, Sorbet, Custard, "
        "Panna cotta, Cupcake, Muffin, Doughnut, Donut, Eclair, Macaron, Crumble, Apple crumble, Cobbler, "
        "Tart, Lemon tart, Fruit salad, Jelly, Jello, Flan, Baklava, Cannoli, Churros, Waffle, Pancake, "
        "Crepe, Banana split, Carrot cake, Red velvet cake, Sponge cake, Fruitcake, Pecan pie, "
        "Pumpkin pie, Key lime pie, Lemon meringue pie, Banoffee pie, Black Forest cake, Strudel, "
        "Apple strudel, Profiteroles, Souffle, Rice pudding, Bread pudding, Sticky toffee pudding, "
        "Fudge, Frozen yogurt, Parfait, Meringue, Biscotti, Shortbread, Scone, Gingerbread, Mochi, "
        "Kulfi, Gulab jamun, Halva, Baked Alaska, Cinnamon roll, Chocolate chip cookie, Lava cake, "
        "Chocolate fondue, Milkshake, Popsicle, Sherbet, Angel food cake, Pound cake, Donuts, Candy")),
    "spice": ("a spice", _words(
        "Cinnamon, Pepper, Cumin, Black pepper, Paprika, Turmeric, Nutmeg, Ginger, Cloves, Clove, "
        "Cardamom, Saffron, Chili, Chilli, Chili powder, Cayenne, Cayenne pepper, Coriander, Fennel, "
        "Fenugreek, Mustard, Mustard seed, Star anise, Anise, Allspice, Vanilla, Curry powder, Garam masala, "
        "Sumac, Za'atar, Mace, Caraway, Dill, Oregano, Basil, Thyme, Rosemary, Sage, Bay leaf, Parsley, "
        "Garlic, Garlic powder, Onion powder, Salt, Sesame, Poppy seed, Juniper, Celery seed, Asafoetida, "
        "Peppercorn, White pepper, Red pepper flakes, Chipotle, Smoked paprika, Five spice, Tarragon, "
        "Marjoram, Mint, Lemongrass, Horseradish, Wasabi, Galangal, Nigella, Herbes de Provence, "
        "Chives, Licorice, Tamarind, Ras el hanout, Jerk seasoning, Cajun seasoning, Ginger powder")),
    "gemstone": ("a gemstone", _words(
        "Diamond, Ruby, Emerald, Sapphire, Amethyst, Topaz, Opal, Pearl, Garnet, Jade, Aquamarine, "
        "Turquoise, Onyx, Quartz, Rose quartz, Citrine, Peridot, Tourmaline, Tanzanite, Lapis lazuli, "
        "Moonstone, Amber, Agate, Jasper, Obsidian, Zircon, Cubic zirconia, Alexandrite, Spinel, "
        "Morganite, Beryl, Malachite, Bloodstone, Carnelian, Chalcedony, Tiger's eye, Coral, Jet, "
        "Sunstone, Labradorite, Kunzite, Iolite, Tsavorite, Chrysoberyl, Fluorite, Hematite, "
        "Rhodochrosite, Sodalite, Aventurine, Black opal, Star sapphire, Blue topaz, Smoky quartz, "
        "Clear quartz, Crystal, Tanzanite, Moissanite, Ammolite, Larimar, Rhodolite, Chrysoprase")),
    "tool": ("a tool", _words(
        "Hammer, Screwdriver, Wrench, Saw, Pliers, Drill, Spanner, Chisel, File, Axe, Hatchet, Shovel, "
        "Spade, Rake, Hoe, Trowel, Level, Spirit level, Tape measure, Ruler, Sander, Sandpaper, Clamp, "
        "Vise, Vice, Crowbar, Pickaxe, Mallet, Sledgehammer, Hacksaw, Chainsaw, Jigsaw, Circular saw, "
        "Power drill, Allen key, Hex key, Socket wrench, Torque wrench, Monkey wrench, Pipe wrench, "
        "Wire cutters, Wire stripper, Soldering iron, Glue gun, Staple gun, Nail gun, Utility knife, "
        "Knife, Scissors, Shears, Pruning shears, Wheelbarrow, Ladder, Stepladder, Plane, Awl, Router, "
        "Grinder, Angle grinder, Lathe, Anvil, Tongs, Scraper, Putty knife, Paintbrush, Roller, "
        "Multimeter, Flashlight, Torch, Stud finder, Caulking gun, Crimper, Hand saw, Pitchfork, Sickle, "
        "Scythe, Machete, Multitool, Swiss army knife, Bolt cutter, Tweezers, Magnifying glass, Compass")),
    "fish": ("a fish", _words(
        "Salmon, Tuna, Cod, Trout, Goldfish, Shark, Catfish, Carp, Bass, Sea bass, Haddock, Halibut, "
        "Mackerel, Sardine, Anchovy, Herring, Tilapia, Perch, Pike, Eel, Swordfish, Marlin, Snapper, "
        "Red snapper, Grouper, Flounder, Sole, Plaice, Mahi-mahi, Barracuda, Piranha, Clownfish, Guppy, "
        "Angelfish, Betta, Koi, Minnow, Sturgeon, Swordtail, Tetra, Neon tetra, Pufferfish, Blowfish, "
        "Stingray, Ray, Manta ray, Seahorse, Lionfish, Parrotfish, Triggerfish, Whiting, Pollock, Hake, "
        "Monkfish, Turbot, Bream, Mullet, Dory, John Dory, Zander, Walleye, Bluegill, Crappie, "
        "Rainbow trout, Bluefin tuna, Great white shark, Hammerhead shark, Whale shark, Sunfish, "
        "Flying fish, Anglerfish, Moray eel, Gar, Arowana, Oscar, Discus, Molly, Zebrafish, Char, Smelt")),
    "insect": ("an insect", _words(
        "Ant, Bee, Butterfly, Fly, Mosquito, Beetle, Ladybug, Ladybird, Grasshopper, Cricket, Dragonfly, "
        "Wasp, Moth, Cockroach, Roach, Termite, Flea, Louse, Bumblebee, Honeybee, Hornet, Firefly, "
        "Praying mantis, Mantis, Cicada, Aphid, Caterpillar, Stick insect, Earwig, Silverfish, Gnat, "
        "Horsefly, Housefly, Fruit fly, Damselfly, Mayfly, Weevil, Locust, Katydid, Scarab, "
        "Stag beetle, Dung beetle, Bed bug, Bedbug, Stink bug, Water strider, Lacewing, Midge, "
        "Yellowjacket, Monarch butterfly, Silkworm, Larva, Maggot, Boll weevil, Tsetse fly, Sawfly, "
        "Leafhopper, Mealybug, Thrips, Walking stick, Leaf insect, Butterflies, Bug")),
    "cheese": ("a cheese", _words(
        "Cheddar, Mozzarella, Parmesan, Brie, Camembert, Gouda, Swiss, Swiss cheese, Emmental, Gruyere, "
        "Feta, Blue cheese, Roquefort, Gorgonzola, Stilton, Ricotta, Mascarpone, Cream cheese, "
        "Cottage cheese, Goat cheese, Chevre, Halloumi, Provolone, Monterey Jack, Pepper Jack, Colby, "
        "Edam, Havarti, Manchego, Pecorino, Pecorino Romano, Romano, Asiago, Fontina, Taleggio, "
        "Burrata, Paneer, Queso fresco, American cheese, Red Leicester, Wensleydale, Double Gloucester, "
        "Lancashire, Cheshire, Jarlsberg, Limburger, Munster, Raclette, Comte, Reblochon, Boursin, "
        "String cheese, Velveeta, Mild cheddar, Smoked gouda, Grana Padano, Parmigiano Reggiano, "
        "Dolcelatte, Danish blue, Quark, Labneh, Cotija, Oaxaca, Port Salut, Leerdammer")),
    "emotion": ("an emotion", _words(
        "Happiness, Sadness, Anger, Fear, Joy, Love, Surprise, Disgust, Jealousy, Envy, Pride, Shame, "
        "Guilt, Embarrassment, Anxiety, Excitement, Hope, Gratitude, Loneliness, Boredom, Frustration, "
        "Contentment, Relief, Grief, Sorrow, Despair, Calm, Confusion, Curiosity, Nostalgia, Regret, "
        "Hate, Hatred, Contempt, Awe, Amusement, Compassion, Empathy, Sympathy, Trust, Affection, "
        "Admiration, Resentment, Irritation, Annoyance, Rage, Terror, Panic, Worry, Nervousness, Stress, "
        "Delight, Bliss, Euphoria, Serenity, Peace, Melancholy, Longing, Desire, Lust, Passion, "
        "Disappointment, Humiliation, Insecurity, Confidence, Optimism, Pessimism, Enthusiasm, "
        "Satisfaction, Sorrowfulness, Apathy, Dread, Shyness, Kindness, Tenderness, Fury, Elation")),
    "shape": ("a shape", _words(
        "Circle, Square, Triangle, Rectangle, Oval, Pentagon, Hexagon, Octagon, Heptagon, Nonagon, "
        "Decagon, Star, Heart, Diamond, Rhombus, Trapezoid, Trapezium, Parallelogram, Kite, Ellipse, "
        "Crescent, Cross, Arrow, Semicircle, Sphere, Cube, Cone, Cylinder, Pyramid, Prism, Cuboid, "
        "Torus, Polygon, Quadrilateral, Dodecagon, Dodecahedron, Icosahedron, Octahedron, Tetrahedron, "
        "Spiral, Ring, Line, Point, Arc, Sector, Rectangle prism, Right triangle, Equilateral triangle, "
        "Isosceles triangle, Scalene triangle, Hemisphere, Ovoid, Egg shape, Teardrop, Chevron, Trefoil, "
        "Pentagram, Hexagram, Annulus, Lens, Octagram")),
    "car_brand": ("a car brand", _words(
        "Toyota, Ford, Honda, BMW, Mercedes-Benz, Mercedes, Audi, Volkswagen, VW, Chevrolet, Chevy, "
        "Nissan, Hyundai, Kia, Mazda, Subaru, Tesla, Porsche, Ferrari, Lamborghini, Maserati, Jaguar, "
        "Land Rover, Range Rover, Volvo, Fiat, Alfa Romeo, Peugeot, Renault, Citroen, Skoda, Seat, Opel, "
        "Vauxhall, Mitsubishi, Suzuki, Lexus, Infiniti, Acura, Cadillac, Buick, GMC, Dodge, Jeep, "
        "Chrysler, Ram, Lincoln, Mini, Rolls-Royce, Bentley, Aston Martin, McLaren, Bugatti, Lotus, "
        "Genesis, Dacia, Lancia, Saab, Daewoo, Tata, Mahindra, Maruti Suzuki, BYD, Geely, Chery, "
        "Great Wall, Polestar, Rivian, Lucid, Pontiac, Oldsmobile, Plymouth, Hummer, Smart, Cupra, "
        "DS, Datsun, Proton, Holden, Lada, Koenigsegg, Pagani, Rover, MG, Isuzu")),
    "room": ("a room in a house", _words(
        "Kitchen, Bedroom, Bathroom, Living room, Dining room, Lounge, Sitting room, Family room, Den, "
        "Study, Office, Home office, Library, Hallway, Hall, Attic, Loft, Basement, Cellar, Garage, "
        "Laundry room, Utility room, Pantry, Closet, Walk-in closet, Nursery, Playroom, Guest room, "
        "Spare room, Master bedroom, Conservatory, Sunroom, Porch, Foyer, Entryway, Entrance hall, "
        "Mudroom, Gym, Home gym, Games room, Game room, Media room, Home cinema, Cinema room, "
        "Toilet, Restroom, Powder room, Washroom, Lavatory, WC, Shower room, En suite, Ensuite, "
        "Dressing room, Drawing room, Parlor, Parlour, Music room, Wine cellar, Workshop, Storage room, "
        "Storeroom, Boot room, Breakfast room, Scullery, Landing, Stairwell, Box room, Kid's room, "
        "Children's room, Teenager's room, Bedroom suite, Balcony, Terrace, Veranda, Patio")),
}

V3_SAME_ANSWER: dict[str, tuple[str, ...]] = {
    "tree": ("Palm|Palm tree", "Cherry|Cherry tree", "Lime tree|Linden", "Rowan|Mountain ash", "Bay tree|Laurel",
             "Oak|Oak tree", "Pine|Pine tree", "Maple|Maple tree", "Beech|Beech tree",
             "Sequoia|Giant sequoia"),
    "dog_breed": ("Labrador|Labrador Retriever|Lab", "Husky|Siberian Husky", "Yorkshire Terrier|Yorkie",
                  "Jack Russell|Jack Russell Terrier", "Malamute|Alaskan Malamute",
                  "Shetland Sheepdog|Sheltie", "Westie|West Highland Terrier|West Highland White Terrier",
                  "Doberman|Doberman Pinscher", "Pit Bull|Pitbull|American Pit Bull Terrier",
                  "Corgi|Welsh Corgi", "Airedale|Airedale Terrier", "Bulldog|English Bulldog|British Bulldog",
                  "German Shepherd|Alsatian"),
    "us_state": (),
    "language": ("Mandarin|Mandarin Chinese", "Persian|Farsi", "Tagalog|Filipino", "Irish|Irish Gaelic",
                 "Malay|Bahasa Malaysia", "Indonesian|Bahasa Indonesia", "Sign language|American Sign Language|ASL"),
    "drink": ("Cola|Coke|Coca-Cola", "Whisky|Whiskey", "Hot chocolate|Cocoa", "Soda|Soft drink|Pop",
              "Sports drink|Gatorade", "Water|Still water"),
    "dessert": ("Doughnut|Donut|Donuts", "Jelly|Jello|Jell-O", "Creme brulee|Crème brûlée",
                "Souffle|Soufflé", "Crumble|Apple crumble"),
    "spice": ("Chili|Chilli|Chili powder", "Cayenne|Cayenne pepper", "Cloves|Clove", "Pepper|Black pepper",
              "Mustard|Mustard seed", "Ginger|Ginger powder", "Anise|Aniseed"),
    "gemstone": ("Cubic zirconia|CZ",),
    "tool": ("Wrench|Spanner", "Vise|Vice", "Allen key|Hex key", "Flashlight|Torch", "Level|Spirit level",
             "Monkey wrench|Adjustable wrench", "Shears|Pruning shears|Secateurs", "Multitool|Multi-tool"),
    "fish": ("Pufferfish|Blowfish", "Dory|John Dory", "Betta|Betta fish|Siamese fighting fish",
             "Mahi-mahi|Mahi mahi|Dorado"),
    "insect": ("Ladybug|Ladybird", "Cockroach|Roach", "Praying mantis|Mantis", "Bed bug|Bedbug",
               "Stick insect|Walking stick", "Butterfly|Butterflies"),
    "cheese": ("Swiss|Swiss cheese|Emmental|Emmentaler", "Goat cheese|Chevre|Goat's cheese",
               "Pecorino|Pecorino Romano", "Parmesan|Parmigiano Reggiano", "Gruyere|Gruyère",
               "Comte|Comté", "Blue cheese|Bleu cheese"),
    "emotion": ("Happiness|Happy", "Sadness|Sad", "Anger|Angry", "Fear|Afraid|Scared|Fearful", "Joy|Joyful",
                "Surprise|Surprised", "Disgust|Disgusted", "Jealousy|Jealous", "Envy|Envious", "Pride|Proud",
                "Shame|Ashamed", "Guilt|Guilty", "Embarrassment|Embarrassed", "Anxiety|Anxious",
                "Excitement|Excited", "Hope|Hopeful", "Gratitude|Grateful|Thankfulness",
                "Loneliness|Lonely", "Boredom|Bored", "Frustration|Frustrated", "Contentment|Content",
                "Relief|Relieved", "Grief|Grieving", "Sorrow|Sorrowfulness", "Calm|Calmness",
                "Confusion|Confused", "Curiosity|Curious", "Regret|Regretful", "Hate|Hatred",
                "Amusement|Amused", "Compassion|Compassionate", "Irritation|Irritated", "Annoyance|Annoyed",
                "Rage|Fury", "Worry|Worried", "Nervousness|Nervous", "Stress|Stressed", "Disappointment|Disappointed",
                "Insecurity|Insecure", "Confidence|Confident", "Satisfaction|Satisfied", "Shyness|Shy",
                "Love|In love", "Melancholy|Melancholic", "Elation|Elated", "Serenity|Serene"),
    "shape": ("Trapezoid|Trapezium", "Rhombus|Diamond", "Oval|Ovoid|Egg shape", "Cuboid|Rectangular prism|"
              "Rectangle prism", "Ring|Annulus"),
    "car_brand": ("Mercedes-Benz|Mercedes|Benz", "Volkswagen|VW", "Chevrolet|Chevy", "Land Rover|Range Rover",
                  "Opel|Vauxhall", "Citroen|Citroën", "Skoda|Škoda", "Maruti Suzuki|Maruti"),
    "room": ("Living room|Lounge|Sitting room", "Study|Office|Home office", "Hallway|Hall|Entrance hall",
             "Attic|Loft", "Basement|Cellar", "Laundry room|Utility room", "Gym|Home gym",
             "Games room|Game room", "Media room|Home cinema|Cinema room",
             "Toilet|Restroom|Powder room|Washroom|Lavatory|WC", "En suite|Ensuite", "Parlor|Parlour",
             "Storage room|Storeroom", "Foyer|Entryway", "Conservatory|Sunroom", "Kid's room|Children's room",
             "Veranda|Porch", "Spare room|Guest room"),
}

V3_PLURAL_CATEGORIES = ("tree", "dog_breed", "drink", "dessert", "spice", "gemstone", "tool", "fish", "insect",
                        "shape", "room")

OPEN_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    **V2_CATEGORIES,
    **{name: (noun, group_spellings(name, answers, {**V2_SAME_ANSWER, **V3_SAME_ANSWER},
                                    (*V2_PLURAL_CATEGORIES, *V3_PLURAL_CATEGORIES)))
       for name, (noun, answers) in _V3_ADDED.items()},
}
V3_CATEGORIES = tuple(_V3_ADDED)


def write_json(directory) -> None:
    """The shipped lists (``src/ts2/demo/lists``) as this procedure made them: v2's categories, v3's
    added ones, and the questions (phrasings, the answer format, the closed families)."""
    import json
    from pathlib import Path

    import build_v2

    def dump(name, obj):
        (Path(directory) / name).write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")

    dump("open_v2.json", {n: {"noun": noun, "answers": list(a)} for n, (noun, a) in build_v2.OPEN_CATEGORIES.items()})
    dump("open_v3_added.json", {n: {"noun": OPEN_CATEGORIES[n][0], "answers": list(OPEN_CATEGORIES[n][1])}
                                for n in V3_CATEGORIES})
    dump("questions.json", {"phrasings": list(build_v2.PHRASINGS), "answer_format": build_v2.ANSWER_FORMAT,
                            "closed": {f: [{"question": q, "answers": list(a)} for q, a in items]
                                       for f, items in build_v2.CLOSED_FAMILIES.items()}})


if __name__ == "__main__":  # python docs/answer_lists/build_v3.py src/ts2/demo/lists
    import sys

    write_json(sys.argv[1])
