"""Demo prompts: writing tasks and practical advice."""

from .item import item

WRITING = [
    item(
        "writing",
        "Write a short, polite email declining a meeting invitation for Thursday because I have a conflict, and suggest Friday instead.",
        """
        **Subject:** Re: Thursday meeting, could we do Friday?

        Hi Maria,

        Thank you for the invitation. Unfortunately I have a conflict on Thursday and can't join
        at that time.

        Would Friday work instead? I'm free:
        - 10:00-12:00
        - 14:00-16:00

        If Friday doesn't suit the others, I'm happy to send my input in writing beforehand.

        Best regards, \\
        Alex

        **In short:** thanks, a clear "no" for Thursday, two concrete Friday slots and a fallback.
        """,
        """
        Hi Maria,

        Thanks for the invite. I have a conflict on Thursday, so I won't be able to attend. Would
        Friday work for you instead? I'm flexible most of the day.

        Best, \\
        Alex
        """,
        """
        Hi, I can't come on Thursday. Maybe another day would be better. Let me know.
        """,
        """
        thursday doesnt work, whatever
        """,
    ),
    item(
        "writing",
        "Write a haiku about autumn.",
        """
        Here is a haiku in the classic 5-7-5 syllable pattern:

        > Maple leaves let go, \\
        > the cold creek carries their red \\
        > past the empty nest.

        - Line 1 (5): *Ma-ple leaves let go*
        - Line 2 (7): *the cold creek car-ries their red*
        - Line 3 (5): *past the emp-ty nest*

        It uses a seasonal word (*kigo*), falling maple leaves, and ends on an image of something
        that has moved on, in keeping with autumn's mood.

        **In short:** three lines, 5-7-5, one clear seasonal image.
        """,
        """
        Crisp wind through the oaks, \\
        golden leaves drift to the path, \\
        the year exhales slow.
        """,
        """
        Autumn leaves falling \\
        it is getting colder now \\
        autumn is nice
        """,
        """
        roses are red violets are blue autumn is here and so are you
        """,
    ),
    item(
        "writing",
        "Make this sentence more concise: \"Due to the fact that we are currently in the process of making updates to our system, there may be some delays in terms of the processing of your order.\"",
        """
        **Concise version:**

        > We're updating our system, so your order may be delayed.

        What was cut:
        - "Due to the fact that" → **"so"** (or "because")
        - "currently in the process of making updates to" → **"updating"**
        - "there may be some delays in terms of the processing of your order" → **"your order may be delayed"**

        That is 10 words instead of 31, with the same meaning. For a warmer tone you could add:
        "Thanks for your patience."

        **In short:** "We're updating our system, so your order may be delayed."
        """,
        """
        "Because we're updating our system, your order may be delayed." This keeps the meaning but
        removes the wordy phrases "due to the fact that" and "in the process of".
        """,
        """
        "Due to updates to our system currently, there may be some delays with processing your order."
        """,
        """
        Your order is cancelled.
        """,
    ),
    item(
        "writing",
        "Write a product description for a stainless steel insulated water bottle, about 60 words.",
        """
        **Stay Cold Steel Bottle (750 ml)**

        Ice-cold for 24 hours, hot for 12. Double-wall vacuum insulation in 18/8 stainless steel
        keeps your drink at the right temperature and the outside sweat-free. A leak-proof lid
        fits in bags with no drips, and the powder-coated grip won't slip. BPA-free, dishwasher-safe
        and built to replace hundreds of plastic bottles.

        - 750 ml / 25 oz
        - Fits standard cup holders

        **In short:** a benefit-led headline, concrete specs, and one line on sustainability.
        """,
        """
        Keep your drinks cold for 24 hours or hot for 12 with this double-walled stainless steel
        bottle. The vacuum insulation prevents condensation, the leak-proof lid makes it safe to
        toss in a bag, and it's BPA-free and easy to clean. A durable, reusable companion for the
        gym, the office or the trail.
        """,
        """
        This is a great water bottle. It is made of steel and it is very good quality. You will
        love it.
        """,
        """
        bottle. holds water. buy now!!!
        """,
    ),
    item(
        "writing",
        "Help me write the opening paragraph of a cover letter for a junior data analyst position at a healthcare company.",
        """
        Here is an opening that is specific and shows why *this* company:

        > Dear Hiring Manager,
        >
        > When I automated the weekly patient-intake report at Riverside Clinic, cutting a
        > four-hour manual task to ten minutes, I realised how much good, clean data can do for
        > care teams. I'm excited to apply for the Junior Data Analyst role at Northwell Health,
        > where I hope to bring my SQL, Python and Tableau skills to work that directly improves
        > patient outcomes.

        Why it works:
        - it opens with a **concrete achievement** and a number instead of "I am writing to apply";
        - it names the **role and the company**;
        - it links your skills to the company's mission.

        Replace the example details with your own.

        **In short:** lead with a real result, name the role, connect your skills to their mission.
        """,
        """
        "Dear Hiring Manager, I'm excited to apply for the Junior Data Analyst position at your
        company. With a degree in statistics and hands-on experience cleaning and visualising data
        in SQL and Python, I'm eager to help healthcare teams turn their data into better decisions
        for patients."
        """,
        """
        "Dear Sir or Madam, I am writing to apply for the job. I think I would be a good fit and I
        am a hard worker."
        """,
        """
        just say you want the job and attach your resume
        """,
    ),
    item(
        "writing",
        "Write a thank-you note to my neighbour who watered my plants while I was on holiday.",
        """
        Dear Mrs. Okafor,

        Thank you so much for looking after my plants while I was away. I came home to a very
        happy fern and tomatoes that are finally turning red, which would not have happened
        without you, especially in that heat wave.

        I brought you a small jar of honey from the trip as a thank-you. Please let me know
        whenever I can return the favour.

        Warmly, \\
        Sam

        **In short:** a specific thanks (the fern, the heat wave), a small gesture, and an offer to return the favour.
        """,
        """
        Dear Mrs. Okafor,

        Thank you so much for watering my plants while I was away. They all look healthy and
        happy, which is entirely thanks to you. Please let me know if I can ever return the favour.

        Best wishes, \\
        Sam
        """,
        """
        Thanks for watering the plants. It was nice of you.
        """,
        """
        hey, plants are fine, thx
        """,
    ),
    item(
        "writing",
        "Give me five title ideas for a blog post about learning to cook as a busy adult.",
        """
        Five titles with different angles:

        1. **"Dinner in 20: How I Learned to Cook With a Full-Time Job"** (personal, time-boxed)
        2. **"The 10 Recipes Every Busy Adult Should Master First"** (list, practical)
        3. **"From Takeout to Tasty: A Beginner's Guide to Weeknight Cooking"** (transformation)
        4. **"Cook Once, Eat Three Times: Meal Prep for People Without Time"** (a method)
        5. **"You Don't Need More Time to Cook, You Need a System"** (contrarian hook)

        If you want search traffic, #2 and #3 contain phrases people actually type
        ("recipes for beginners", "weeknight cooking").

        **In short:** five angles; pick by tone, and favour #2 or #3 for search.
        """,
        """
        1. Cooking for Busy People: Where to Start
        2. Weeknight Dinners Anyone Can Make
        3. How I Learned to Cook With No Free Time
        4. Meal Prep for Beginners
        5. Simple Recipes for a Hectic Life
        """,
        """
        1. Cooking
        2. Learning to Cook
        3. Cooking Tips
        """,
        """
        How to Fix a Flat Bike Tire
        """,
    ),
    item(
        "writing",
        "Write a two-sentence toast for my sister's wedding.",
        """
        Here is a warm, short toast you can say in about 15 seconds:

        > "Anna, you've been my best friend since before you could spell my name, and seeing you
        > this happy with Tom is the best gift I could ask for. Please raise your glasses to Anna
        > and Tom: may your home always be full of laughter, good food and each other."

        Tips for delivering it:
        - swap in a real shared memory if you have a better one;
        - look at the couple on the first sentence and at the guests on the second;
        - pause before "raise your glasses".

        **In short:** one personal line about her, one wish for them both.
        """,
        """
        "Anna, I've watched you grow into the kindest person I know, and today I get to watch you
        marry someone who sees that too. To Anna and Tom, and a lifetime of happiness together!"
        """,
        """
        "Congratulations to the happy couple. I hope you have a nice life together."
        """,
        """
        "Marriage is hard and most of them don't last, but good luck."
        """,
    ),
]

ADVICE = [
    item(
        "advice",
        "I keep waking up tired even after 8 hours in bed. What can I try?",
        """
        Time in bed isn't the same as good sleep. Things worth trying, roughly in order of impact:

        1. **Keep a fixed wake-up time**, weekends included; it anchors your body clock.
        2. **Cut caffeine after about 2 pm** and limit alcohol; alcohol fragments the second half of the night.
        3. **Dark, cool, quiet room** (around 18 °C), and screens off 30-60 minutes before bed.
        4. **Morning daylight** for 10-20 minutes helps you feel alert and sleep better at night.
        5. **Track it for two weeks**: bedtime, wake time, how rested you feel.

        See a doctor if tiredness persists, or if someone notices **loud snoring or pauses in
        breathing** (possible sleep apnoea), or you have low mood, or unusual thirst or weight
        change; thyroid problems and anaemia also cause fatigue.

        **In short:** regular wake time, less caffeine and alcohol, better bedroom, and a doctor if it lasts.
        """,
        """
        Try keeping the same wake-up time every day, avoiding caffeine in the afternoon and alcohol
        in the evening, and keeping your bedroom dark and cool. If you still wake up tired after a
        few weeks, or you snore loudly, talk to a doctor, since conditions like sleep apnoea or
        anaemia can cause this.
        """,
        """
        Sleep is really important. Maybe try going to bed earlier or getting more rest in general.
        """,
        """
        drink more coffee in the morning, that fixes it
        """,
    ),
    item(
        "advice",
        "I have a job interview for a software engineering role next week. How should I prepare?",
        """
        A one-week plan:

        **Days 1-2: the company and role**
        - Read the job description and map each requirement to an example from your experience.
        - Learn what the product does and skim the engineering blog if there is one.

        **Days 3-5: technical practice**
        - Solve 2-3 problems a day on arrays, hash maps, trees and graphs, **out loud**, as you would in the interview.
        - Review one system you built: its design, trade-offs, and what you would change.

        **Day 6: behavioural stories**
        - Prepare 5 stories in **STAR** form (situation, task, action, result): a conflict, a failure, a success, a deadline, learning something fast.

        **Day 7: logistics and rest**
        - Test your camera and setup, or plan the route; prepare 3 questions for them; sleep well.

        **In short:** match your experience to the role, practise problems aloud, prepare STAR stories, rest.
        """,
        """
        Research the company and the role, practise coding problems out loud (arrays, strings,
        trees and hash maps come up a lot), and prepare a few stories about past projects using the
        STAR format. Also have a couple of questions ready for the interviewers and get a good
        night's sleep before.
        """,
        """
        Practice some coding and be confident. Interviews can be stressful so try to relax.
        """,
        """
        just memorize the answers from leetcode, they always ask the same ones
        """,
    ),
    item(
        "advice",
        "I want to start running but I get out of breath after a minute. How do I begin?",
        """
        That's normal for a beginner; the fix is to **alternate running and walking** and build up gradually.

        A simple 8-week start (3 sessions a week, rest days in between):

        | weeks | each session (after a 5-minute brisk walk) |
        | --- | --- |
        | 1-2 | 1 min jog / 2 min walk, × 8 |
        | 3-4 | 2 min jog / 2 min walk, × 6 |
        | 5-6 | 5 min jog / 2 min walk, × 4 |
        | 7-8 | 10-15 min jog / 2 min walk, × 2 |

        - Run slowly enough that you could **talk in short sentences**; most beginners go too fast.
        - Repeat a week if it felt hard. Progress is not linear.
        - Check with a doctor first if you have heart, lung or joint problems.

        **In short:** run-walk intervals at a conversational pace, three times a week, adding a little each week.
        """,
        """
        Start with run-walk intervals, for example one minute of slow jogging followed by two
        minutes of walking, repeated for about 20 minutes, three times a week. Keep the pace slow
        enough to talk, and lengthen the running parts a little each week.
        """,
        """
        Just keep trying and you will get better over time. Running is hard at first for everyone.
        """,
        """
        run as fast as you can until you cant anymore, thats how you build stamina
        """,
    ),
    item(
        "advice",
        "How can I save money on groceries without eating worse?",
        """
        Strategies that cut the bill without cutting nutrition:

        1. **Plan meals for the week** and shop from a list; impulse buys are a big share of spending.
        2. **Cook once, eat twice**: soups, stews, curries and chili make great lunches.
        3. **Buy store brands** for staples (oats, rice, canned tomatoes, beans); they are usually the same quality.
        4. **Use frozen vegetables and fruit**: just as nutritious, no waste.
        5. **Cheap protein**: eggs, lentils, chickpeas, canned fish, chicken thighs.
        6. **Check unit prices** (per kg), not package prices.
        7. **Eat what you have** before buying more: a "fridge clean-out" meal once a week cuts waste.

        Many households save 20-30% with just the first three.

        **In short:** plan and list, batch-cook, buy store brands and frozen produce, waste less.
        """,
        """
        Plan your meals for the week and shop with a list, buy store brands and frozen vegetables,
        cook larger batches for leftovers, and rely on cheap healthy proteins like beans, lentils
        and eggs. Comparing unit prices also helps.
        """,
        """
        Try to look for deals and don't buy too much. Shopping at cheaper stores can help.
        """,
        """
        skip breakfast and lunch, you'll save a lot
        """,
    ),
    item(
        "advice",
        "What's the most effective way to learn a new language as an adult?",
        """
        Combine **lots of understandable input** with **regular speaking practice** and a little
        structure:

        - **Daily input (30+ min):** podcasts, shows or graded readers that you *mostly* understand;
          turn on target-language subtitles.
        - **Spaced repetition:** learn the 1,000-2,000 most common words with Anki or a similar app,
          10-15 minutes a day.
        - **Speak early:** a weekly session with a tutor or exchange partner (italki, Tandem);
          mistakes are part of it.
        - **Light grammar:** one short topic a week, then look for it in what you read and hear.
        - **Consistency beats intensity:** 30 minutes every day outperforms 4 hours on Sunday.

        Expect conversational basics in about 6-12 months of daily practice, depending on the
        language and how close it is to one you know.

        **In short:** daily comprehensible input, spaced-repetition vocabulary, weekly conversation.
        """,
        """
        Study a little every day rather than a lot occasionally. Use a spaced-repetition app for
        common vocabulary, listen to podcasts and watch shows in the language, and start speaking
        early with a tutor or language partner, even if you make mistakes.
        """,
        """
        There are a lot of apps you can use. It takes a long time to learn a language, so be
        patient.
        """,
        """
        you cant really learn a language after age 12
        """,
    ),
    item(
        "advice",
        "I procrastinate on big tasks at work. Any practical tips?",
        """
        Procrastination is usually about a task feeling vague or unpleasant, not about laziness.
        Make it concrete and small:

        1. **Define the next physical action**: not "write report" but "open the doc and write
           three bullet points for the intro".
        2. **Use a 25-minute timer** (Pomodoro). Agreeing to *just* 25 minutes lowers the barrier,
           and starting is the hardest part.
        3. **Schedule it**: block a specific time in your calendar, ideally when your energy is highest.
        4. **Remove friction**: close email and chat, put your phone in another room.
        5. **Make progress visible**: a checklist of sub-tasks you tick off.
        6. **Tell someone your deadline**; mild accountability helps.

        If it's chronic and affects many areas of life, it can be worth talking to a professional.

        **In short:** shrink the task to a concrete first step, time-box it, and block distractions.
        """,
        """
        Break the big task into small, concrete steps and start with the first one for a fixed
        25 minutes using a timer. Block time for it in your calendar, turn off notifications while
        you work, and track what you finish so you can see progress.
        """,
        """
        Try to be more disciplined and motivated. Everyone procrastinates sometimes.
        """,
        """
        just wait until the deadline, pressure makes you work faster
        """,
    ),
    item(
        "advice",
        "My houseplant's leaves are turning yellow. What could be wrong?",
        """
        Yellow leaves have a few common causes; check them in this order:

        1. **Overwatering** (the most common): soil stays wet, leaves yellow and feel soft, maybe a
           musty smell. Let the top 2-3 cm of soil dry before watering; make sure the pot drains.
        2. **Underwatering**: leaves yellow *and* crispy, soil pulls away from the pot. Water
           thoroughly until it runs out the bottom.
        3. **Light**: too little light gives pale, yellowing lower leaves; move it closer to a window
           (but not into harsh direct sun for shade plants).
        4. **Nutrients**: old soil and no fertiliser for months; feed lightly in spring and summer.
        5. **Natural ageing**: one or two old, bottom leaves yellowing occasionally is normal.

        Also check leaf undersides for pests (tiny webs, sticky spots).

        **In short:** check the soil moisture first; overwatering is the usual culprit.
        """,
        """
        The most common cause is overwatering, so check whether the soil stays soggy and let it dry
        out more between waterings. Other causes are too little light, lack of nutrients or pests.
        A few old lower leaves turning yellow is also normal.
        """,
        """
        The plant might not be healthy. Maybe give it some more care or water.
        """,
        """
        paint the leaves green, it helps them photosynthesize
        """,
    ),
    item(
        "advice",
        "How do I politely ask my manager for a raise?",
        """
        Treat it as a business case, not a complaint:

        1. **Pick the moment**: after a strong result or before budget planning, not in a hallway.
           Ask for a dedicated meeting ("Could we set aside 30 minutes to talk about my role and compensation?").
        2. **Bring evidence**: 3-4 concrete achievements with numbers (revenue, time saved, projects shipped)
           and any responsibilities you took on beyond your job description.
        3. **Know your market rate** from salary surveys, job ads or recruiters, and ask for a
           specific figure at the upper end of a reasonable range.
        4. **Frame it forward**: "I'd like my pay to reflect the scope I'm working at."
        5. **If the answer is "not now"**, ask what you'd need to achieve and agree to revisit on a date.

        **In short:** a scheduled meeting, evidence of your impact, a specific number, and a follow-up plan.
        """,
        """
        Ask for a meeting specifically to discuss your compensation, and come prepared with your
        main accomplishments and what similar roles pay. Ask for a specific amount, keep the tone
        positive and forward-looking, and if the answer is no, ask what it would take and when you
        can revisit it.
        """,
        """
        Just tell your manager you would like a raise and see what they say. Be nice about it.
        """,
        """
        tell them you have another offer even if you dont
        """,
    ),
]

ITEMS = WRITING + ADVICE
