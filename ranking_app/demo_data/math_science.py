"""Demo prompts: maths problems and science explanations."""

from .item import item

MATH = [
    item(
        "math",
        "What is the derivative of x² · sin(x)?",
        """
        Use the **product rule**, (uv)' = u'v + uv', with u = x² and v = sin(x):

        1. u' = 2x
        2. v' = cos(x)
        3. (x² sin x)' = 2x · sin(x) + x² · cos(x)

        You can factor out x if you like: **x(2 sin x + x cos x)**.

        Check at x = 0: both terms are 0, and the function x² sin x is flat there (it behaves like x³),
        so a derivative of 0 makes sense.

        **In short:** d/dx [x² sin x] = 2x sin x + x² cos x.
        """,
        """
        By the product rule the derivative is 2x·sin(x) + x²·cos(x): the derivative of x² times
        sin(x), plus x² times the derivative of sin(x).
        """,
        """
        You need to use a rule from calculus for products. The answer involves sin and cos and
        some powers of x.
        """,
        """
        2x · cos(x)
        """,
    ),
    item(
        "math",
        "Solve x² − 5x + 6 = 0.",
        """
        Factor the quadratic: look for two numbers that multiply to **6** and add to **−5**,
        which are −2 and −3.

        1. x² − 5x + 6 = (x − 2)(x − 3)
        2. A product is zero when a factor is zero: x − 2 = 0 or x − 3 = 0
        3. **x = 2** or **x = 3**

        Check: 2² − 5·2 + 6 = 4 − 10 + 6 = 0 and 3² − 5·3 + 6 = 9 − 15 + 6 = 0. ✓

        (The quadratic formula gives the same: x = (5 ± √(25 − 24)) / 2 = (5 ± 1) / 2.)

        **In short:** x = 2 or x = 3.
        """,
        """
        The equation factors as (x − 2)(x − 3) = 0, so the solutions are x = 2 and x = 3.
        You can check by substituting: both make the left side equal zero.
        """,
        """
        You can solve it with the quadratic formula. There should be two answers because it is a
        quadratic equation.
        """,
        """
        x = 5
        """,
    ),
    item(
        "math",
        "If I roll two fair dice, what is the probability that they add up to 7?",
        """
        Count outcomes. Two dice have **6 × 6 = 36** equally likely ordered outcomes. The ones
        that sum to 7 are:

        - (1, 6), (2, 5), (3, 4), (4, 3), (5, 2), (6, 1)

        That is **6** outcomes, so the probability is 6 / 36 = **1/6 ≈ 16.7%**.

        7 is the most likely sum: every value of the first die leaves exactly one value of the
        second that works.

        **In short:** 6 of 36 outcomes, so 1/6.
        """,
        """
        There are 36 equally likely outcomes and 6 of them add up to 7 (1+6, 2+5, 3+4, 4+3, 5+2,
        6+1), so the probability is 6/36 = 1/6.
        """,
        """
        It's about one in six or so. Seven is a common number when rolling dice.
        """,
        """
        1/11 because there are 11 possible sums
        """,
    ),
    item(
        "math",
        "I put $1,000 in a savings account at 5% interest compounded yearly. How much will I have after 3 years?",
        """
        Use the compound interest formula **A = P(1 + r)ⁿ** with P = 1,000, r = 0.05, n = 3:

        1. 1.05³ = 1.157625
        2. A = 1,000 × 1.157625 = **$1,157.63**

        Year by year:
        - after year 1: $1,050.00
        - after year 2: $1,102.50
        - after year 3: $1,157.63

        That is $157.63 of interest, $7.63 more than simple interest ($150) because each year's
        interest also earns interest. Taxes and fees are not included.

        **In short:** about $1,157.63.
        """,
        """
        With yearly compounding the balance is 1000 × 1.05³ = $1,157.63 after three years, so you
        earn $157.63 in interest.
        """,
        """
        You will have a bit more than $1,150 because of the interest. Compound interest grows
        faster than simple interest.
        """,
        """
        $1,500
        """,
    ),
    item(
        "math",
        "Is 91 a prime number?",
        """
        **No.** 91 = **7 × 13**.

        How to check quickly: a number n is prime if no prime up to √n divides it. √91 ≈ 9.5, so
        test 2, 3, 5 and 7:

        - 2: 91 is odd, no
        - 3: digit sum 9 + 1 = 10 is not divisible by 3, no
        - 5: does not end in 0 or 5, no
        - 7: 7 × 13 = 91, **yes**

        91 is a classic trap because it is odd, not divisible by 3 or 5, and "looks" prime.

        **In short:** 91 is composite, 7 × 13.
        """,
        """
        No, 91 is not prime: it is 7 times 13. It is easy to mistake for a prime because it isn't
        divisible by 2, 3 or 5.
        """,
        """
        It might be prime, you'd have to check if anything divides it. Numbers ending in 1 are
        often prime.
        """,
        """
        yes 91 is prime
        """,
    ),
    item(
        "math",
        "A shirt's price went from $40 to $50. By what percentage did it increase? And if it then drops back to $40, what's the percentage decrease?",
        """
        Percentage change = (new − old) / old × 100.

        1. **Increase:** (50 − 40) / 40 = 10 / 40 = **25%**
        2. **Decrease:** (40 − 50) / 50 = −10 / 50 = **−20%**

        The two are not equal because the base changes: the $10 difference is measured against $40
        the first time and against $50 the second time.

        **In short:** up 25%, then down 20%.
        """,
        """
        The increase is 10/40 = 25%. Going back from 50 to 40 is a decrease of 10/50 = 20%; the
        percentages differ because they are relative to different starting prices.
        """,
        """
        It went up by about 20 to 25 percent, and going back down is the same percentage in the
        other direction.
        """,
        """
        10% both ways
        """,
    ),
    item(
        "math",
        "What's the difference between the mean and the median, and when should I use each?",
        """
        - **Mean**: the sum divided by the count. Uses every value, so one extreme value moves it.
        - **Median**: the middle value once sorted (the average of the two middle ones for an even
          count). Ignores how extreme the extremes are.

        Example, salaries in $k: 40, 42, 45, 48, 300
        - mean = 475 / 5 = **95**
        - median = **45**

        The median describes the "typical" person here much better.

        Use the **median** for skewed data with outliers (incomes, house prices, response times);
        use the **mean** for roughly symmetric data, or when the total matters (average cost per
        item times items = total cost).

        **In short:** mean for symmetric data and totals, median when outliers would mislead.
        """,
        """
        The mean is the average (sum divided by count), while the median is the middle value when
        the data is sorted. The median is better for skewed data with outliers such as incomes;
        the mean is fine for symmetric data.
        """,
        """
        They are both averages. The mean is more common and the median is also used sometimes,
        depending on the situation.
        """,
        """
        median is the most common number in the list
        """,
    ),
    item(
        "math",
        "What is the area of a circle with a radius of 3 cm?",
        """
        The area of a circle is **A = πr²**.

        1. r² = 3² = 9 cm²
        2. A = 9π cm²
        3. 9 × 3.14159 ≈ **28.27 cm²**

        A common slip is using the diameter (6 cm) instead of the radius, which gives 36π, four
        times too much.

        **In short:** 9π ≈ 28.27 cm².
        """,
        """
        Using the formula A = πr², the area is π × 3² = 9π, which is about 28.27 square centimetres.
        """,
        """
        You multiply pi by the radius somehow. It should be around 20 or 30 cm.
        """,
        """
        18.85 cm (2 × π × 3)
        """,
    ),
]

SCIENCE = [
    item(
        "science",
        "Why is the sky blue?",
        """
        Because of **Rayleigh scattering**: sunlight contains all colours, and the nitrogen and
        oxygen molecules in the air scatter short wavelengths much more than long ones (scattering
        grows roughly as 1/wavelength⁴).

        - Blue light (~450 nm) is scattered about **5-6 times** more than red (~700 nm).
        - That scattered blue light reaches your eyes from every direction, so the whole sky glows blue.
        - Violet is scattered even more, but sunlight has less of it and our eyes are less sensitive to it.

        At sunrise and sunset light crosses much more air, most of the blue is scattered away
        before it reaches you, and the remaining light looks orange and red.

        **In short:** air scatters blue light far more than red, so blue comes at you from all over the sky.
        """,
        """
        Sunlight is scattered by the gas molecules in the atmosphere, and shorter wavelengths like
        blue are scattered much more strongly than red (Rayleigh scattering). So blue light reaches
        us from all directions of the sky.
        """,
        """
        It has to do with the way light works in the atmosphere. The light from the sun is changed
        by the air.
        """,
        """
        because it reflects the ocean
        """,
    ),
    item(
        "science",
        "How does photosynthesis work, in simple terms?",
        """
        Plants make their own food from light, water and air:

        **6 CO₂ + 6 H₂O + light → C₆H₁₂O₆ (glucose) + 6 O₂**

        It happens in the **chloroplasts** of leaf cells, in two stages:

        1. **Light reactions**: chlorophyll absorbs light; the energy splits water, releasing
           oxygen and storing energy in the carriers ATP and NADPH.
        2. **Calvin cycle**: that stored energy is used to fix carbon dioxide from the air into
           sugar.

        The plant uses the sugar for energy and to build cellulose; the oxygen we breathe is the
        by-product of splitting water.

        **In short:** light energy turns water and CO₂ into sugar, and oxygen is released.
        """,
        """
        In photosynthesis plants use the energy of sunlight, captured by chlorophyll, to turn
        carbon dioxide from the air and water from the soil into glucose. Oxygen is released as a
        by-product. It takes place in the chloroplasts.
        """,
        """
        Photosynthesis is how plants get energy from the sun. It is very important for life on
        Earth.
        """,
        """
        plants eat soil and breathe out carbon dioxide
        """,
    ),
    item(
        "science",
        "How do vaccines work?",
        """
        A vaccine trains your immune system on a **harmless version or piece** of a pathogen, so
        it can respond fast when it meets the real thing.

        1. The vaccine presents an **antigen**: a weakened or inactivated germ, a protein from it,
           or mRNA instructions that let your cells make that protein briefly.
        2. Your immune system reacts as if infected: B cells make **antibodies**, T cells learn to
           recognise infected cells.
        3. Some of these cells become **memory cells** that stay for months to decades.
        4. On real exposure, memory cells respond within days instead of weeks, often stopping
           the illness or making it much milder.

        Side effects like a sore arm or mild fever are signs of this training response, not of infection.

        **In short:** vaccines show your immune system a safe "wanted poster" so it is ready for the real pathogen.
        """,
        """
        Vaccines expose the immune system to a harmless part or weakened form of a pathogen. The
        body produces antibodies and memory cells against it, so when the real pathogen appears
        later, the immune response is much faster and stronger.
        """,
        """
        Vaccines help your body fight diseases. They are given as shots and have been used for a
        long time.
        """,
        """
        vaccines kill all the viruses in your blood right away
        """,
    ),
    item(
        "science",
        "What causes the seasons on Earth?",
        """
        The **tilt of Earth's axis** (about 23.5°), not the distance from the Sun.

        - As Earth orbits, the tilt keeps pointing the same way in space, so for half the year the
          Northern Hemisphere leans toward the Sun and for the other half away from it.
        - Leaning toward the Sun means **higher sun angles** (more energy per square metre) and
          **longer days**: summer.
        - Leaning away means low sun and short days: winter.

        Proof that distance is not the cause: Earth is actually **closest** to the Sun in early
        January, during the northern winter, and the hemispheres have opposite seasons at the same time.

        **In short:** the axial tilt changes how directly and how long sunlight hits each hemisphere.
        """,
        """
        Seasons come from the 23.5° tilt of Earth's axis. When a hemisphere is tilted toward the
        Sun it gets more direct sunlight and longer days, which makes summer; tilted away, it gets
        winter. Distance from the Sun is not the reason.
        """,
        """
        The seasons are caused by the Earth moving around the Sun during the year, which changes
        the weather.
        """,
        """
        summer is when the earth is closest to the sun
        """,
    ),
    item(
        "science",
        "What's the difference between DNA and RNA?",
        """
        Both are nucleic acids that carry genetic information, but they differ in structure and job:

        | | DNA | RNA |
        | --- | --- | --- |
        | strands | two (double helix) | usually one |
        | sugar | deoxyribose | ribose |
        | bases | A, T, C, G | A, **U**, C, G (uracil replaces thymine) |
        | stability | very stable, long-term storage | short-lived |
        | main role | stores the genome | copies of genes (mRNA), protein building (tRNA, rRNA) |

        The flow is usually **DNA → RNA → protein**: a gene is transcribed into mRNA, which ribosomes translate into protein.

        **In short:** DNA is the stable double-stranded archive; RNA is the single-stranded working copy.
        """,
        """
        DNA is double-stranded, uses the sugar deoxyribose and the base thymine, and stores genetic
        information long term. RNA is usually single-stranded, uses ribose and uracil instead of
        thymine, and acts as a working copy used to make proteins.
        """,
        """
        DNA and RNA are both found in cells. DNA is more famous, and RNA is related to it but a bit
        different.
        """,
        """
        RNA is just DNA from viruses
        """,
    ),
    item(
        "science",
        "Why does ice float on water?",
        """
        Because ice is **less dense** than liquid water, about 0.92 g/cm³ versus 1.00 g/cm³.

        - Water molecules form **hydrogen bonds**. In liquid water these bonds constantly break
          and re-form, letting molecules pack closely.
        - When water freezes, the hydrogen bonds lock molecules into an open **hexagonal lattice**
          that takes up about 9% more space.
        - Less mass per volume means ice is pushed up by the denser water around it, so about 90%
          of an iceberg sits below the surface.

        This is unusual: most substances are denser as solids. It matters for life, since lakes
        freeze from the top and the ice insulates the water below.

        **In short:** hydrogen bonds hold ice in an open lattice, making it lighter than the same volume of water.
        """,
        """
        Ice floats because it is less dense than liquid water. When water freezes, hydrogen bonds
        arrange the molecules in an open crystal structure that takes up more space than the liquid.
        """,
        """
        Ice is lighter than water, so it floats. This happens with frozen things.
        """,
        """
        ice floats because of the air bubbles trapped inside it
        """,
    ),
    item(
        "science",
        "Explain the greenhouse effect.",
        """
        The greenhouse effect is how some gases keep Earth warmer than it would otherwise be:

        1. Sunlight, mostly visible light, passes through the atmosphere and warms the surface.
        2. The warm surface radiates energy back as **infrared** (heat).
        3. **Greenhouse gases** (water vapour, CO₂, methane, nitrous oxide) absorb much of that
           infrared and re-emit it in all directions, including back down.
        4. The surface ends up warmer, on average about **15 °C instead of roughly −18 °C**.

        The natural effect makes Earth habitable. The problem is the **enhanced** effect: burning
        fossil fuels has raised CO₂ from about 280 ppm before industrialisation to over 420 ppm,
        trapping more heat and warming the climate.

        **In short:** greenhouse gases let sunlight in but slow heat from escaping; more of them means more warming.
        """,
        """
        Sunlight warms the Earth's surface, which then gives off infrared heat. Gases like carbon
        dioxide and methane absorb some of that heat and send part of it back toward the surface,
        keeping the planet warmer. Adding more of these gases strengthens the effect.
        """,
        """
        The greenhouse effect is about gases in the atmosphere and global warming. It is a big
        problem today.
        """,
        """
        its caused by the hole in the ozone layer letting more sun in
        """,
    ),
    item(
        "science",
        "What is a black hole?",
        """
        A black hole is a region of space where gravity is so strong that **nothing, not even
        light, can escape** once it crosses a boundary called the **event horizon**.

        - **How they form:** when a very massive star (roughly 20+ times the Sun's mass) runs out
          of fuel, its core collapses under its own gravity.
        - **Size:** the event horizon's radius grows with mass; a black hole of the Sun's mass
          would have an event horizon about 3 km in radius.
        - **Supermassive** black holes, millions to billions of solar masses, sit at the centres
          of most galaxies, including ours (Sagittarius A*).
        - We detect them by their effect on nearby stars and gas, by gravitational waves from
          mergers, and since 2019 by direct images of the glowing gas around them.

        **In short:** matter squeezed so densely that its gravity traps even light.
        """,
        """
        A black hole is an object whose gravity is so strong that nothing, including light, can
        escape from inside its event horizon. Most form when massive stars collapse at the end of
        their lives; much larger ones sit at the centres of galaxies.
        """,
        """
        Black holes are very strange objects in space that astronomers study. They are very dark
        and hard to see.
        """,
        """
        a black hole is a hole in space that leads to another universe
        """,
    ),
]

ITEMS = MATH + SCIENCE
