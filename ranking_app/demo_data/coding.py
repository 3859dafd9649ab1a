"""Demo prompts: programming questions (answers with code blocks)."""

from .item import item

ITEMS = [
    item(
        "coding",
        "How do I reverse a list in Python?",
        """
        There are three common ways, depending on whether you want a new list or to change the
        existing one:

        ```python
        numbers = [1, 2, 3, 4]

        backwards = numbers[::-1]          # new list: [4, 3, 2, 1]
        lazy = reversed(numbers)           # iterator, no copy until you consume it
        numbers.reverse()                  # in place: numbers is now [4, 3, 2, 1]
        ```

        - Use **slicing** when you need a reversed copy.
        - Use **`reversed()`** when you only loop over it (`for n in reversed(numbers):`).
        - Use **`list.reverse()`** to save memory on a large list you no longer need in the old order;
          note that it returns `None`.

        **In short:** `numbers[::-1]` for a copy, `numbers.reverse()` to change the list itself.
        """,
        """
        You can use slicing with a negative step: `my_list[::-1]` returns a new list in reverse order.
        If you want to reverse the list in place instead, call `my_list.reverse()`, which changes the
        original list and returns None.
        """,
        """
        There are a few ways to do it in Python. You can use a built-in function or write a loop
        that goes through the list. It depends on what you need.
        """,
        """
        use list.sort(reverse) it reverses it
        """,
    ),
    item(
        "coding",
        "What's the difference between INNER JOIN and LEFT JOIN in SQL?",
        """
        Both combine rows from two tables on a condition; they differ in what happens to rows
        **without a match**:

        - **`INNER JOIN`** keeps only rows that have a match in both tables.
        - **`LEFT JOIN`** keeps every row from the left table; where the right table has no match,
          its columns are `NULL`.

        ```sql
        -- customers with at least one order
        SELECT c.name, o.id
        FROM customers c
        INNER JOIN orders o ON o.customer_id = c.id;

        -- every customer, with NULL order id for those who never ordered
        SELECT c.name, o.id
        FROM customers c
        LEFT JOIN orders o ON o.customer_id = c.id;
        ```

        A handy trick: `LEFT JOIN ... WHERE o.id IS NULL` finds customers who have **no** orders.

        **In short:** INNER JOIN = only matches; LEFT JOIN = all of the left table, matches where they exist.
        """,
        """
        An INNER JOIN returns only the rows where the join condition matches in both tables. A LEFT
        JOIN returns all rows from the left table, and fills the right table's columns with NULL
        when there is no matching row. So a LEFT JOIN never drops rows from the left table.
        """,
        """
        They are both types of joins. INNER JOIN is the default one and LEFT JOIN is another kind
        that works a bit differently with the tables.
        """,
        """
        left join is faster so always use that
        """,
    ),
    item(
        "coding",
        "I committed to the wrong branch in git but haven't pushed yet. How do I undo it?",
        """
        Since nothing is pushed, you can move the commit safely. Assuming the last commit on
        `main` should have gone to `feature`:

        ```bash
        git branch feature          # 1. create the branch at the current commit (skip if it exists)
        git reset --hard HEAD~1     # 2. move main back one commit
        git switch feature          # 3. your commit is here
        ```

        If `feature` already exists, use cherry-pick instead:

        ```bash
        git switch feature
        git cherry-pick main        # copy the commit
        git switch main
        git reset --hard HEAD~1     # drop it from main
        ```

        - `--hard` discards uncommitted changes too, so run `git status` first and stash them if needed.
        - If you already pushed, use `git revert` instead of rewriting history.

        **In short:** put the commit on the right branch first (branch or cherry-pick), then `git reset` the wrong one.
        """,
        """
        Create or switch to the correct branch and cherry-pick the commit there, then go back to the
        wrong branch and run `git reset --hard HEAD~1` to remove it. Because you haven't pushed,
        rewriting the wrong branch's history is safe.
        """,
        """
        You can use git reset to undo commits. Be careful though because git can lose your work if
        you use the wrong command.
        """,
        """
        delete the .git folder and clone again
        """,
    ),
    item(
        "coding",
        "Write a JavaScript debounce function and explain when to use it.",
        """
        A debounced function waits until calls have **stopped** for a given delay, then runs once
        with the latest arguments:

        ```javascript
        function debounce(fn, delayMs) {
          let timer;
          return function (...args) {
            clearTimeout(timer);
            timer = setTimeout(() => fn.apply(this, args), delayMs);
          };
        }

        // usage: search only after the user stops typing for 300 ms
        const search = debounce((q) => fetch(`/search?q=${encodeURIComponent(q)}`), 300);
        input.addEventListener("input", (e) => search(e.target.value));
        ```

        Use it for:
        - search-as-you-type and autosave;
        - window `resize` or `scroll` handlers that do expensive work.

        If you need the function to run at a steady rate *during* the activity instead, use
        **throttle**.

        **In short:** debounce collapses a burst of calls into one call after the burst ends.
        """,
        """
        Here is a simple version:

        function debounce(fn, ms) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; }

        Use it when an event fires many times in a row, like typing in a search box, and you only
        want to react once the user pauses.
        """,
        """
        Debounce is used to limit how often a function is called. You can write it with setTimeout.
        It is useful for performance in web apps.
        """,
        """
        debounce is a css property for animations
        """,
    ),
    item(
        "coding",
        "How do I sort a Python dictionary by its values?",
        """
        Dictionaries keep insertion order (Python 3.7+), so you build a new dict from the sorted items:

        ```python
        scores = {"ana": 82, "ben": 95, "cy": 71}

        by_value = dict(sorted(scores.items(), key=lambda kv: kv[1]))
        # {'cy': 71, 'ana': 82, 'ben': 95}

        highest_first = dict(sorted(scores.items(), key=lambda kv: kv[1], reverse=True))
        # {'ben': 95, 'ana': 82, 'cy': 71}
        ```

        - If you only need the top few, `heapq.nlargest(3, scores.items(), key=lambda kv: kv[1])` is faster on big dicts.
        - `operator.itemgetter(1)` can replace the lambda.

        **In short:** `dict(sorted(d.items(), key=lambda kv: kv[1]))`.
        """,
        """
        Use sorted on the items with a key that picks the value, and turn the result back into a dict:
        `dict(sorted(d.items(), key=lambda item: item[1]))`. Add `reverse=True` for descending order.
        """,
        """
        Dictionaries can be sorted using the sorted function in Python. You need to give it the
        right key so it sorts by value.
        """,
        """
        you cant sort a dictionary in python
        """,
    ),
    item(
        "coding",
        "How do I read a CSV file with pandas and show only rows where the price is above 100?",
        """
        Read the file, then filter with a boolean mask:

        ```python
        import pandas as pd

        df = pd.read_csv("products.csv")
        expensive = df[df["price"] > 100]
        print(expensive)
        ```

        A few things that often go wrong:
        - If prices contain currency symbols (`"$120"`), convert first:
          `df["price"] = pd.to_numeric(df["price"].str.replace("$", "", regex=False))`.
        - Combine conditions with `&` and parentheses: `df[(df["price"] > 100) & (df["stock"] > 0)]`.
        - Use `expensive.to_csv("expensive.csv", index=False)` to save the result.

        **In short:** `df[df["price"] > 100]` after `pd.read_csv`.
        """,
        """
        Load it with `df = pd.read_csv("file.csv")` and then filter the rows with
        `df[df["price"] > 100]`. Make sure the price column is numeric; if it was read as text,
        convert it with `pd.to_numeric` first.
        """,
        """
        Pandas has a read_csv function for reading files. After that you can filter the data frame
        to get the rows you want.
        """,
        """
        open the csv in excel and sort it
        """,
    ),
    item(
        "coding",
        "When should I use asyncio instead of threads in Python?",
        """
        Both help with **I/O-bound** work (waiting on networks, disks); neither speeds up
        CPU-bound Python code because of the GIL (use `multiprocessing` for that).

        **Choose asyncio when:**
        - you handle many concurrent connections (thousands of HTTP requests, websockets);
        - your libraries are async-native (`httpx`, `aiohttp`, `asyncpg`);
        - you want explicit switch points (`await`) and fewer race conditions.

        **Choose threads when:**
        - you call blocking libraries that have no async version (`requests`, many DB drivers);
        - you only need a handful of concurrent tasks;
        - you are adding concurrency to existing synchronous code.

        ```python
        # asyncio: 100 downloads concurrently in one thread
        async def main(urls):
            async with httpx.AsyncClient() as client:
                return await asyncio.gather(*(client.get(u) for u in urls))
        ```

        **In short:** asyncio for many I/O tasks with async libraries; threads for a few tasks with blocking libraries.
        """,
        """
        Use asyncio when you have lots of I/O-bound tasks and libraries that support async, since
        one event loop can juggle thousands of connections cheaply. Use threads when you need to
        call blocking libraries or only have a few concurrent tasks. For CPU-heavy work, neither
        helps much; use processes instead.
        """,
        """
        Asyncio and threads are both ways to do concurrency. Asyncio is newer and more modern, so
        it is usually better, but threads also work.
        """,
        """
        always use threads, asyncio makes python code run on the gpu
        """,
    ),
    item(
        "coding",
        "This loop skips the last element. Why?\n\n```python\nitems = ['a', 'b', 'c']\nfor i in range(len(items) - 1):\n    print(items[i])\n```",
        """
        It's an **off-by-one error**: `range(stop)` already excludes `stop`, so `range(len(items) - 1)`
        gives `0, 1` and never reaches index `2`.

        Fix it by dropping the `- 1`, or better, iterate over the items directly:

        ```python
        for item in items:
            print(item)

        # if you also need the index
        for i, item in enumerate(items):
            print(i, item)
        ```

        **In short:** `range(n)` stops before `n`; remove the `- 1` (or loop over the list itself).
        """,
        """
        `range(len(items) - 1)` produces 0 and 1 only, because range stops before its end value.
        Use `range(len(items))`, or simply `for item in items:` which avoids index mistakes entirely.
        """,
        """
        There is a problem with the range in your loop. Try changing the numbers until it prints
        everything.
        """,
        """
        python lists start at 1 so you need range(1, len(items))
        """,
    ),
    item(
        "coding",
        "How can I find the 10 largest files under a directory on Linux?",
        """
        Use `find` to list files with their sizes and `sort` to pick the biggest:

        ```bash
        find /path/to/dir -type f -printf '%s\\t%p\\n' 2>/dev/null \\
          | sort -nr | head -n 10 \\
          | numfmt --field=1 --to=iec
        ```

        - `-printf '%s\\t%p\\n'` prints size in bytes and the path; `numfmt` makes sizes human readable.
        - `2>/dev/null` hides "Permission denied" noise; use `sudo` to include every file.
        - For directories rather than files: `du -ah /path | sort -hr | head -n 10`.

        **In short:** `find DIR -type f -printf '%s\\t%p\\n' | sort -nr | head`.
        """,
        """
        Run `du -ah /path/to/dir | sort -hr | head -n 10`. It lists files and folders with
        human-readable sizes, sorted from largest to smallest. Add `sudo` if some directories are
        not readable by your user.
        """,
        """
        You can use the command line to check file sizes. The ls command shows sizes and there are
        other tools too.
        """,
        """
        rm -rf the folder and see how much space you get back
        """,
    ),
    item(
        "coding",
        "What's the difference between HTTP 401 and 403?",
        """
        Both refuse the request, for different reasons:

        | code | meaning | what the client should do |
        | --- | --- | --- |
        | **401 Unauthorized** | the server does not know who you are (no or invalid credentials) | log in or send a valid token, then retry |
        | **403 Forbidden** | the server knows who you are, and you are not allowed | retrying with the same credentials will not help |

        - A 401 response should carry a `WWW-Authenticate` header naming the auth scheme.
        - Some APIs return **404** instead of 403 to avoid revealing that a resource exists.

        **In short:** 401 = "who are you?", 403 = "I know who you are, and no".
        """,
        """
        401 means the request lacks valid authentication, so the client should log in or send a
        correct token. 403 means the client is authenticated but does not have permission for that
        resource, so logging in again will not help.
        """,
        """
        Both are error codes about access. 401 and 403 are similar and are used when you cannot
        access something on a website.
        """,
        """
        401 is server crashed, 403 is page not found
        """,
    ),
    item(
        "coding",
        "How do I create and use a virtual environment for a Python project?",
        """
        Use the built-in `venv` module:

        ```bash
        python3 -m venv .venv              # 1. create it in the project folder
        source .venv/bin/activate          # 2. activate (Windows: .venv\\Scripts\\activate)
        pip install requests               # 3. install packages into it
        pip freeze > requirements.txt      # 4. record versions
        deactivate                         # 5. leave it
        ```

        - Add `.venv/` to `.gitignore`; commit `requirements.txt` instead.
        - Someone else recreates it with `python3 -m venv .venv && .venv/bin/pip install -r requirements.txt`.
        - You can skip activation by calling `.venv/bin/python` directly, handy in scripts and cron.

        **In short:** `python3 -m venv .venv`, activate, `pip install`, and commit only the requirements file.
        """,
        """
        Run `python3 -m venv .venv` in your project, activate it with `source .venv/bin/activate`,
        and install packages with pip; they will go into the environment instead of your system
        Python. Save the package list with `pip freeze > requirements.txt`.
        """,
        """
        Virtual environments keep packages separate. There are tools like venv, virtualenv and conda
        that you can use for this.
        """,
        """
        just install everything with sudo pip, its easier
        """,
    ),
    item(
        "coding",
        "Write a regular expression that checks whether a string is a 5-digit US ZIP code, optionally with the 4-digit extension.",
        """
        ```python
        import re

        ZIP = re.compile(r"^\\d{5}(?:-\\d{4})?$")

        ZIP.fullmatch("94103")       # match
        ZIP.fullmatch("94103-1234")  # match
        ZIP.fullmatch("9410")        # None
        ZIP.fullmatch("94103-12")    # None
        ```

        How it works:
        - `^` and `$` anchor the whole string, so `"x94103"` fails;
        - `\\d{5}` is exactly five digits;
        - `(?:-\\d{4})?` is an optional, non-capturing group for the hyphen and four digits.

        Note that `\\d` also matches non-ASCII digits in Python; use `[0-9]` or `re.ASCII` if that matters.

        **In short:** `^\\d{5}(?:-\\d{4})?$`.
        """,
        """
        Use `^\\d{5}(-\\d{4})?$`. It requires exactly five digits, optionally followed by a hyphen and
        four more digits, and the anchors make sure nothing else is in the string.
        """,
        """
        You can use a regex with \\d for digits. Something like \\d+ should work for ZIP codes.
        """,
        """
        [a-z]{5}
        """,
    ),
]
