"""Demo prompts: summaries of a given text, and general-knowledge explanations."""

from .item import item

SUMMARIES = [
    item(
        "summary",
        """
        Summarise in two or three sentences:

        "The city council voted 7-2 on Tuesday to convert two downtown car lanes on Main Street into
        protected bike lanes starting next spring. Supporters cited a 40% rise in cycling since 2019
        and three serious crashes last year. Several shop owners opposed the plan, fearing that the
        loss of 60 parking spaces would hurt business; the council promised a parking review after
        six months and a new 200-space garage on Elm Street by 2026."
        """,
        """
        **Summary:** The city council approved (7-2) replacing two Main Street car lanes with
        protected bike lanes from next spring, citing a 40% increase in cycling since 2019 and three
        serious crashes last year. Some shop owners object to losing 60 parking spaces, so the
        council committed to a parking review after six months and a 200-space garage on Elm Street
        by 2026.

        **In short:** bike lanes approved; parking concerns answered with a review and a new garage.
        """,
        """
        The council voted 7-2 to turn two downtown car lanes on Main Street into protected bike
        lanes next spring because cycling has grown and there were serious crashes. Shop owners
        worry about losing parking, so a review and a new garage are planned.
        """,
        """
        The city is making some changes to Main Street. There was a vote and some people were not
        happy about it.
        """,
        """
        The council banned cars from downtown.
        """,
    ),
    item(
        "summary",
        """
        Give me a TL;DR of these meeting notes:

        "Q3 planning. Attendees: Priya, Tom, Lena, Marco. Revenue is 8% below target, mostly due to
        the delayed EU launch. Decision: EU launch moves to Oct 15; Marco owns the localisation
        checklist (due Sept 20). Lena will cut the paid-ads budget by 15% and move it to the
        referral programme. Tom raised hiring: the two backend roles are on hold until the October
        numbers are in. Next meeting Sept 22."
        """,
        """
        **TL;DR:** Revenue is 8% under target because the EU launch slipped.

        - **Decisions:** EU launch on **Oct 15**; 15% of paid-ads budget moves to referrals (Lena);
          two backend hires paused until October numbers.
        - **Action items:** Marco, localisation checklist by **Sept 20**; Lena, budget shift.
        - **Next meeting:** Sept 22.

        **In short:** behind target, EU launch set for Oct 15, ads money to referrals, hiring paused.
        """,
        """
        Revenue is 8% below target due to the delayed EU launch, now set for Oct 15 with Marco
        preparing the localisation checklist by Sept 20. Lena is moving 15% of the ads budget to the
        referral programme, and the two backend hires are on hold until October. Next meeting is
        Sept 22.
        """,
        """
        The team met about Q3 and discussed revenue, the launch, marketing and hiring. Various
        things were decided.
        """,
        """
        Meeting was fine, nothing important.
        """,
    ),
    item(
        "summary",
        """
        Summarise this for a ten-year-old:

        "Bees pollinate about a third of the crops humans eat. In recent decades many bee
        populations have declined because of habitat loss, pesticides, parasites like the varroa
        mite, and climate change. Scientists recommend planting wildflowers, reducing pesticide use
        and protecting wild areas to help bees recover."
        """,
        """
        Here's a kid-friendly version:

        > Bees help make lots of the food we eat: they carry pollen from flower to flower so plants
        > can grow fruit and vegetables. But there are fewer bees than there used to be, because
        > they are losing their homes, some bug sprays hurt them, tiny mites make them sick, and the
        > weather is changing. We can help by planting flowers, using fewer sprays, and keeping wild
        > places safe.

        **In short:** bees help grow our food, they're in trouble, and flowers and fewer sprays help them.
        """,
        """
        Bees help plants make about a third of the food we eat. There are fewer bees now because
        they are losing places to live, some chemicals hurt them, and bugs and climate change make
        them sick. Planting flowers and using fewer chemicals can help them.
        """,
        """
        Bees are important and there are problems with them. People should help the bees.
        """,
        """
        Bees sting people so we should get rid of them.
        """,
    ),
    item(
        "summary",
        """
        What is the main argument of this paragraph, in one sentence?

        "Remote work is often praised for saving commuting time, but its biggest benefit may be
        hiring. A company that no longer needs employees within an hour of an office can recruit
        from an entire country or continent, which widens the talent pool, reduces salary pressure
        in expensive cities, and lets people with disabilities or caring duties join teams they
        could never have reached before."
        """,
        """
        **Main argument:** remote work's greatest advantage is not the saved commute but access to
        a much wider talent pool, since companies can hire from anywhere, including people who
        could not work from an office.

        Supporting points the author gives:
        - a larger, geographically broader pool of candidates;
        - less salary pressure from expensive cities;
        - inclusion of people with disabilities or caring duties.

        **In short:** remote work's biggest win is hiring from anywhere.
        """,
        """
        The paragraph argues that the biggest benefit of remote work is that companies can hire
        from a much larger and more diverse pool of people, not just that workers save commuting
        time.
        """,
        """
        The paragraph is about remote work and its benefits for companies and workers.
        """,
        """
        That remote work is bad for cities.
        """,
    ),
    item(
        "summary",
        """
        Summarise the plot of Romeo and Juliet in three sentences.
        """,
        """
        **Plot in three sentences:**

        1. In Verona, Romeo and Juliet, children of the feuding Montague and Capulet families, fall
           in love at first sight and marry in secret with the help of Friar Laurence.
        2. After Romeo kills Juliet's cousin Tybalt in a street fight and is banished, Juliet takes a
           potion to fake her death and escape an arranged marriage, but the message explaining the
           plan never reaches Romeo.
        3. Believing she is dead, Romeo poisons himself at her tomb; Juliet wakes, finds him dead and
           stabs herself, and their grieving families finally end the feud.

        **In short:** secret love between enemy families ends in a double tragedy that reconciles them.
        """,
        """
        Romeo and Juliet, from two feuding families in Verona, fall in love and secretly marry.
        Romeo is banished after killing Juliet's cousin, and Juliet fakes her death to be with him,
        but he never learns of the plan. Romeo kills himself believing she is dead, Juliet does the
        same when she wakes, and the families reconcile.
        """,
        """
        Two young people fall in love but their families don't like each other. It ends sadly.
        """,
        """
        Romeo and Juliet get married and live happily ever after in Paris.
        """,
    ),
    item(
        "summary",
        """
        Condense this customer review into pros and cons:

        "I've used the X200 headphones daily for two months. The noise cancelling is excellent on
        the train and the battery easily lasts a week of commuting. However, they get uncomfortable
        after about two hours because the ear cups press hard, and the app crashes every time I
        try to change the EQ. Sound is warm and clear. For the price, I'd still recommend them."
        """,
        """
        **Pros**
        - Excellent noise cancelling (on the train)
        - Long battery: about a week of daily commuting
        - Warm, clear sound
        - Good value for the price

        **Cons**
        - Uncomfortable after ~2 hours (ear cups press hard)
        - Companion app crashes when changing the EQ

        **Verdict:** recommended overall, after two months of daily use.

        **In short:** great sound, ANC and battery; poor long-wear comfort and a buggy app.
        """,
        """
        Pros: excellent noise cancelling, long battery life, warm and clear sound, good value.
        Cons: uncomfortable after about two hours, and the app crashes when adjusting the EQ.
        The reviewer still recommends them.
        """,
        """
        The reviewer likes the headphones but there are some problems with them.
        """,
        """
        Pros: cheap. Cons: bad sound.
        """,
    ),
]

KNOWLEDGE = [
    item(
        "knowledge",
        "What is inflation, and why does it happen?",
        """
        **Inflation** is a general rise in prices over time, so each unit of money buys less. It is
        usually measured as the yearly change in a consumer price index (CPI); central banks often
        target about **2%**.

        Main causes:
        1. **Demand-pull:** spending grows faster than the economy can produce (cheap credit,
           stimulus, booms), so sellers raise prices.
        2. **Cost-push:** production costs rise (energy, raw materials, wages) and firms pass them on,
           as with oil shocks.
        3. **Expectations:** if people expect prices to rise, workers ask for higher wages and firms
           raise prices pre-emptively, which can make inflation self-sustaining.
        4. **Money supply** growing much faster than output, in the long run.

        Central banks fight high inflation mainly by **raising interest rates**, which cools borrowing and spending.

        **In short:** prices rise when demand outruns supply or costs jump, and expectations can keep it going.
        """,
        """
        Inflation is the rate at which the general level of prices rises, reducing what money can
        buy. It happens when demand grows faster than supply, when production costs such as energy
        or wages rise, or when people expect prices to keep rising. Central banks usually respond
        by raising interest rates.
        """,
        """
        Inflation is when things get more expensive. It is caused by the economy and the
        government.
        """,
        """
        inflation is when the stock market goes up
        """,
    ),
    item(
        "knowledge",
        "What's the difference between weather and climate?",
        """
        - **Weather** is the state of the atmosphere at a given place and time: today's
          temperature, rain, wind. It changes by the hour.
        - **Climate** is the **long-term average and range** of weather in a region, usually over
          30 years or more.

        An analogy: weather is your mood today; climate is your personality.

        Why it matters: a cold winter week does not contradict global warming, because a single
        weather event says little about the long-term trend, while decades of rising average
        temperatures do.

        **In short:** weather is short-term conditions, climate is the long-term pattern.
        """,
        """
        Weather describes short-term conditions like today's temperature and rain, while climate is
        the average pattern of weather in a region over long periods, typically 30 years. A cold day
        is weather; the fact that a region has cold winters is climate.
        """,
        """
        Weather and climate are similar things. Climate is more about the big picture.
        """,
        """
        there is no difference, they mean the same thing
        """,
    ),
    item(
        "knowledge",
        "Explain how a mortgage works.",
        """
        A mortgage is a **loan to buy property, secured by that property**: if you stop paying, the
        lender can take the home (foreclosure).

        Key parts:
        - **Down payment:** the share you pay up front (often 10-20%); the loan covers the rest.
        - **Principal and interest:** each monthly payment repays part of the loan (principal) and
          pays interest on what you still owe.
        - **Term:** commonly 15-30 years.
        - **Rate:** *fixed* (same payment for the whole term) or *variable* (moves with market rates).
        - **Amortisation:** early payments are mostly interest; later ones mostly principal.

        Example: a $300,000 loan at 6% fixed over 30 years costs about **$1,799 a month**, around
        $347,000 of interest over the full term.

        **In short:** a long-term loan backed by the house, repaid monthly as principal plus interest.
        """,
        """
        A mortgage is a loan used to buy a home, with the home as collateral. You pay a down payment
        up front and then repay the loan in monthly instalments over 15 to 30 years; each payment
        covers interest plus part of the principal. If you stop paying, the lender can repossess
        the home.
        """,
        """
        A mortgage is a type of loan for houses. You pay it back over many years with interest.
        """,
        """
        a mortgage is insurance for your house in case of fire
        """,
    ),
    item(
        "knowledge",
        "What causes jet lag and how can I reduce it?",
        """
        Jet lag happens when your **internal body clock** (circadian rhythm) is out of sync with the
        local time after crossing several time zones. The clock shifts only about one hour per day,
        and flying **east** (shortening your day) is usually harder than flying west.

        To reduce it:
        1. **Shift gradually** 2-3 days before: go to bed an hour earlier (eastward) or later (westward) each day.
        2. **Light is the strongest signal**: get morning sunlight after flying east, afternoon and
           evening light after flying west.
        3. **Adopt local time immediately** for meals and sleep.
        4. **Stay hydrated**; limit alcohol and caffeine on the flight.
        5. **Short naps only** (under 30 minutes) on the first day.
        6. Low-dose **melatonin** at local bedtime can help eastward travel; check with a doctor first.

        **In short:** your body clock lags behind; use light, local schedules and gradual shifts to reset it.
        """,
        """
        Jet lag comes from your body clock being out of sync with the new time zone. Switch to local
        meal and sleep times right away, get daylight at the right times (morning light after
        flying east), stay hydrated and avoid long naps. It usually takes about a day per time zone
        to fully adjust.
        """,
        """
        Jet lag is from flying a lot. Try to get some rest when you arrive and drink some water.
        """,
        """
        jet lag is caused by the air pressure in the plane, chew gum to fix it
        """,
    ),
    item(
        "knowledge",
        "Explain blockchain in simple terms.",
        """
        A blockchain is a **shared record book** that many computers keep copies of, where entries
        can be added but not secretly changed.

        How it works:
        1. Transactions are grouped into a **block**.
        2. Each block contains a **cryptographic fingerprint (hash)** of the previous block, linking them into a chain.
        3. Changing an old entry would change its fingerprint and break every link after it, which
           all the other copies would notice.
        4. The network agrees on the next block through a **consensus** method (e.g. proof of work or proof of stake).

        It's useful when parties who don't fully trust each other need one shared history without a
        central keeper (cryptocurrencies are the best-known use). For most ordinary apps, a normal
        database is simpler and faster.

        **In short:** a tamper-evident ledger copied across many computers, with no single owner.
        """,
        """
        A blockchain is a list of records, called blocks, that is copied across many computers.
        Each block includes a fingerprint of the one before it, so changing old data would be
        obvious, and the computers agree together on which new blocks to add. That lets people share
        a trustworthy record without a central authority.
        """,
        """
        Blockchain is the technology behind Bitcoin. It is decentralised and very secure.
        """,
        """
        blockchain is a type of cloud storage from google
        """,
    ),
    item(
        "knowledge",
        "How does a bill become a law in the United States?",
        """
        The main steps at the federal level:

        1. **Introduction:** a member of Congress introduces the bill in the House or Senate.
        2. **Committee:** it goes to a committee that studies it, holds hearings, amends it, and
           decides whether to send it to the floor (most bills stop here).
        3. **Floor vote:** the full chamber debates and votes; a simple majority passes it.
        4. **Other chamber:** the same process in the other chamber. Both must pass **identical** text,
           often reconciled in a conference committee.
        5. **President:** signs it into law, or **vetoes** it. If Congress is adjourned and the
           President doesn't sign within 10 days, it dies (a "pocket veto").
        6. **Override:** Congress can override a veto with a **two-thirds vote in both chambers**.

        **In short:** committee, votes in both chambers on the same text, then the President's signature (or a two-thirds override).
        """,
        """
        A member of Congress introduces the bill, a committee reviews and possibly amends it, and
        then it must pass both the House and the Senate in the same form. The President then signs
        it into law or vetoes it; Congress can override a veto with a two-thirds majority in both
        chambers.
        """,
        """
        Congress votes on it and then the President signs it. It's a long process.
        """,
        """
        the supreme court writes the laws and the president approves them
        """,
    ),
]

ITEMS = SUMMARIES + KNOWLEDGE
