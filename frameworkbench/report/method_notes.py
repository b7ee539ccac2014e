"""The method notes under the document report's tables, in every language of :mod:`.i18n`."""

# Method notes under the tables (``{placeholders}`` filled by the report).
NOTES = {
    "cmp_api": {
        "en": "API level: a level counts as measured when a target of that level trained this spec to the end "
              "(`study:frameworks:train`): `fit` targets call `model.fit`; loop targets run a hand-written training "
              "loop (`tf:gradienttape`: tf.GradientTape under tf.function; `keras:jax:stateless`: Keras' stateless "
              "API under jax.jit; `torch`: autograd + optimizer). ✔ when the levels that ran are the document's, ✘ "
              "when the document says \"only high\" and a low level ran, ≈ when fewer ran.",
        "ru": "Уровень API: уровень считается измеренным, если цель этого уровня обучила модель до конца "
              "(`study:frameworks:train`): цели `fit` вызывают `model.fit`; цели-циклы выполняют написанный вручную "
              "цикл обучения (`tf:gradienttape`: tf.GradientTape под tf.function; `keras:jax:stateless`: stateless "
              "API Keras под jax.jit; `torch`: autograd + оптимизатор). ✔ — запустились те уровни, что в документе; "
              "✘ — документ говорит «только высокий», а низкий уровень запустился; ≈ — запустилось меньше."},
    "cmp_ease": {
        "en": "Ease of use: non-blank, non-comment lines of the idiomatic script `frameworkbench codegen` writes for "
              "this spec (imports, model, compile/loss/optimizer, training; the shared data-loading part not "
              "counted), measured in the `codegen` worker mode, where the script is also run and its printed "
              "parameter count checked against the spec. Time to first result: import + build + first epoch of "
              "`study:frameworks:train`, median over seeds. Flag: the document's 👍 order (more 👍 = easier) "
              "against the fewest lines of any path in the column that ran; a tie gives ≈.",
        "ru": "Простота: непустые строки без комментариев в идиоматичном скрипте, который пишет `frameworkbench "
              "codegen` для этой модели (импорты, модель, compile/потери/оптимизатор, обучение; общая часть "
              "загрузки данных не считается); измерено в режиме воркера `codegen`, где скрипт ещё и запускается, а "
              "напечатанное им число параметров сверяется со спецификацией. Время до первого результата: импорт + "
              "сборка + первая эпоха из `study:frameworks:train`, медиана по сидам. Флаг: порядок 👍 документа "
              "(больше 👍 = проще) против наименьшего числа строк среди запустившихся путей колонки; ничья даёт ≈."},
    "cmp_prod": {
        "en": "Production: popularity cannot be measured by running models; what is measured is which export paths "
              "work here (`export` worker mode on the initial model of this spec): artifact size, median latency of "
              "one row through the reloaded artifact (200 calls after 10 warm-up calls) and its max |Δ| to the live "
              "model (in the run record). Flag: the document's ✅ order against the number of deployable formats "
              "that worked (SavedModel, TFLite, TorchScript, torch.export, ONNX, ExecuTorch; not the framework's own "
              "save file); ❌ contradicted by any working deployable export is ✘.",
        "ru": "Продакшн: популярность нельзя измерить запуском моделей; измеряется, какие пути экспорта здесь "
              "работают (режим воркера `export` на начальной модели этой спецификации): размер артефакта, медианная "
              "задержка одной строки через загруженный заново артефакт (200 вызовов после 10 разогревочных) и его "
              "макс. |Δ| к исходной модели (в записи запуска). Флаг: порядок ✅ документа против числа "
              "развёртываемых форматов, которые сработали (SavedModel, TFLite, TorchScript, torch.export, ONNX, "
              "ExecuTorch; собственный формат сохранения фреймворка не считается); ❌ при работающем экспорте — ✘."},
    "cmp_learn": {
        "en": "Suitable for learning: one point if the training step of the column's default target (tf.keras, "
              "keras:tensorflow — Keras 3's default backend —, torch) runs eagerly by default, so that a tensor "
              "inside the step can be printed and stepped through like plain Python (observed in the `dynamic` "
              "mode), one point if a hand-written training loop of that framework trained this spec. Flag: the "
              "document's ✅ order against these scores.",
        "ru": "Подходит для обучения: один балл, если шаг обучения цели колонки по умолчанию (tf.keras, "
              "keras:tensorflow — бэкенд Keras 3 по умолчанию —, torch) по умолчанию выполняется eagerly, так что "
              "тензор внутри шага можно напечатать и пройти отладчиком как обычный Python (наблюдается в режиме "
              "`dynamic`), и один балл, если написанный вручную цикл обучения этого фреймворка обучил модель. "
              "Флаг: порядок ✅ документа против этих баллов."},
    "cmp_dyn": {
        "en": "Dynamic execution: inside the training step (a wrapper around the compiled loss for Keras, a forward "
              "hook for torch) the worker records, at every call, whether the code runs eagerly "
              "(`tf.executing_eagerly()`, a concrete array vs a jit tracer in JAX, `torch.compiler.is_compiling()`). "
              "A step body that ran once per step is eager; one that ran a few times for hundreds of steps was "
              "traced and replayed as a compiled graph. The same target is then switched the other way "
              "(`run_eagerly=True`, `tf.config.run_functions_eagerly`, `jax.disable_jit`, `torch.compile`, "
              "`jit_compile=True`); the ratio is the eager median step over the compiled one (second epoch, after "
              "one warm-up epoch). Flag: tf.keras — not eager by default and eager mode works; Keras — ✔ if its "
              "default backend (tensorflow) is eager, ≈ if another backend is; PyTorch — eager by default.",
        "ru": "Динамическое выполнение: внутри шага обучения (обёртка вокруг функции потерь у Keras, forward hook у "
              "torch) воркер при каждом вызове записывает, выполняется ли код eagerly (`tf.executing_eagerly()`, "
              "конкретный массив или jit-трейсер в JAX, `torch.compiler.is_compiling()`). Тело шага, выполненное "
              "на каждом шаге, — eager; выполненное несколько раз на сотни шагов — оттрассировано и повторяется как "
              "скомпилированный граф. Затем та же цель переключается в другой режим (`run_eagerly=True`, "
              "`tf.config.run_functions_eagerly`, `jax.disable_jit`, `torch.compile`, `jit_compile=True`); "
              "отношение — медианный eager-шаг к скомпилированному (вторая эпоха, после разогревочной). Флаг: "
              "tf.keras — не eager по умолчанию, но eager-режим работает; Keras — ✔, если eager бэкенд по "
              "умолчанию (tensorflow), ≈, если другой бэкенд; PyTorch — eager по умолчанию."},
    "choose_quick": {
        "en": "Quick start / learning: the column whose idiomatic script for this spec is shortest (lines counted as "
              "in the comparison table; the script ran and printed the right parameter count); a tie goes to the "
              "shorter time to first result. ✔ when it is one the document names.",
        "ru": "Быстрый старт / обучение: колонка с самым коротким идиоматичным скриптом для этой модели (строки — "
              "как в таблице сравнения; скрипт запустился и напечатал верное число параметров); при ничьей — меньшее "
              "время до первого результата. ✔ — если это одна из названных документом."},
    "choose_research": {
        "en": "Flexibility and research: the highest learning score of the comparison table (eager by default on the "
              "default target + a hand-written loop trained the spec); columns on the same score are all named. ✔ "
              "when PyTorch alone wins, ≈ when it shares the top.",
        "ru": "Гибкость и исследования: наибольший балл «подходит для обучения» из таблицы сравнения (eager по "
              "умолчанию у цели по умолчанию + свой цикл обучения обучил модель); колонки с равным баллом названы "
              "все. ✔ — если PyTorch побеждает один, ≈ — если делит первое место."},
    "choose_production": {
        "en": "Production / mobile: the most deployable export formats that worked, a mobile format breaking ties; "
              "columns on the same score are all named. ✔ when TensorFlow alone wins, ≈ when it shares the top.",
        "ru": "Продакшн / мобильные: больше всего сработавших развёртываемых форматов экспорта, при ничьей решает "
              "мобильный формат; колонки с равным счётом названы все. ✔ — если TensorFlow побеждает один, ≈ — если "
              "делит первое место."},
    "choose_llm": {
        "en": "Language models, measured: the columns whose framework the installed HuggingFace `transformers` "
              "trains a model in (`frameworkbench lm-check`: a tiny randomly initialised BERT classifier built from "
              "its constructor arguments, nothing downloaded, trained one Adam step on a seeded batch, in a subprocess per target; "
              "\"no classes\" = the installed version has no model class for that framework). ✔ when that is "
              "PyTorch alone, ≈ when PyTorch and others, ✘ when not PyTorch. `keras-hub` (Keras 3's own library, "
              "checked on each backend) and the tiny transformer spec on every target (`tiny_transformer`: median "
              "step, peak memory, parity against the float64 reference) are figures beside it and do not decide the "
              "flag; the step of the library check is its first call (tracing and compilation included). The row "
              "marked cited is the document's, as it states it, with its public source.",
        "ru": "Языковые модели, измерено: колонки, во фреймворке которых установленная HuggingFace `transformers` "
              "обучает модель (`frameworkbench lm-check`: маленький BERT-классификатор со случайными весами, "
              "собранный из аргументов конструктора, без скачивания, один шаг Adam на батче с фиксированным сидом, в отдельном "
              "процессе для каждой цели; «нет классов» — в установленной версии нет класса модели для этого "
              "фреймворка). ✔ — если это один PyTorch, ≈ — PyTorch и другие, ✘ — не PyTorch. `keras-hub` "
              "(собственная библиотека Keras 3, проверена на каждом бэкенде) и маленький трансформер на каждой цели "
              "(`tiny_transformer`: медианный шаг, пиковая память, паритет с эталоном float64) приведены рядом и на "
              "флаг не влияют; шаг проверки библиотек — её первый вызов (с трассировкой и компиляцией). Строка с "
              "пометкой «цитата» — строка документа как есть, с открытым источником."},
    "choose_speed": {
        "en": "Fastest training step: median steady-state step (epochs after the first, medians over seeds) of every "
              "target on this spec on this machine's CPU; not a row of the document.",
        "ru": "Самый быстрый шаг: медианный установившийся шаг (эпохи после первой, медианы по сидам) каждой цели "
              "на этой модели на CPU этой машины; в документе такой строки нет."},
    "act_probe": {
        "en": "Probe (`activations` worker mode, every framework): each activation is the framework's own object "
              "that the models use (Keras `Activation`/`LeakyReLU`/`ELU` layer, torch `nn` module; leaky slope 0.01, "
              "ELU α 1), its derivative from the framework's autodiff, on x = −6 … 6 in steps of 0.01 (float32). "
              "Softmax is evaluated on (x, 0, 0) and its first component reported; its derivative is ∂y₀/∂x₀. "
              "Ranges and derivatives are medians over frameworks; \"max |Δ| between frameworks\" is the largest "
              "difference between any two frameworks on the stored curve (every 0.05), for the derivative away from "
              "the kink x = 0, where frameworks pick different one-sided derivatives (last column).",
        "ru": "Проба (режим воркера `activations`, каждый фреймворк): каждая активация — собственный объект "
              "фреймворка, которым пользуются модели (слой Keras `Activation`/`LeakyReLU`/`ELU`, модуль torch `nn`; "
              "наклон leaky 0.01, α ELU 1), производная — от автодифференцирования фреймворка, на x = −6 … 6 с шагом "
              "0.01 (float32). Softmax вычисляется на (x, 0, 0), показана первая компонента, производная — ∂y₀/∂x₀. "
              "Диапазоны и производные — медианы по фреймворкам; «макс. |Δ| между фреймворками» — наибольшая разница "
              "между любыми двумя фреймворками на сохранённой кривой (каждые 0.05), для производной — вне излома "
              "x = 0, где фреймворки берут разные односторонние производные (последний столбец)."},
    "act_cost": {
        "en": "Mean on N(0, 1): 100 000 seeded normal draws (± standard error). Cost: forward + backward of a "
              "1 048 576-element float32 tensor (tf.function / jax.jit / eager torch), median of 30 after 5 warm-up "
              "calls, divided by ReLU's in the same framework.",
        "ru": "Среднее на N(0, 1): 100 000 нормальных чисел с фиксированным сидом (± стандартная ошибка). "
              "Стоимость: прямой + обратный проход тензора float32 из 1 048 576 элементов (tf.function / jax.jit / "
              "eager torch), медиана 30 вызовов после 5 разогревочных, делённая на стоимость ReLU в том же "
              "фреймворке."},
    "act_deep": {
        "en": "Deep MLP (`train_stats` mode, `study:activations:deep`): dense layers as in the stored spec, trained "
              "on the batch plan; medians over targets and seeds. Dead units: hidden units whose pre-activation is "
              "≤ 0 on every training row (for ReLU: zero output and zero gradient on all of them; for leaky ReLU and "
              "ELU the same units still pass a gradient). Gradient norms: ‖∂L/∂W‖ of each dense kernel on 512 "
              "training rows; method: {method}.",
        "ru": "Глубокий MLP (режим `train_stats`, `study:activations:deep`): полносвязные слои как в сохранённой "
              "спецификации, обучение по плану батчей; медианы по целям и сидам. Мёртвые нейроны: скрытые нейроны, "
              "чья преактивация ≤ 0 на каждой обучающей строке (у ReLU — нулевой выход и нулевой градиент на всех "
              "строках; у leaky ReLU и ELU те же нейроны всё ещё пропускают градиент). Нормы градиента: ‖∂L/∂W‖ "
              "каждого ядра на 512 обучающих строках; метод: {method}."},
    "act_flags": {
        "en": "Flags: sigmoid — output in [0, 1] and vanishing (f′(5) < 0.01, first-layer gradient < 10 % of "
              "ReLU's); tanh — in [−1, 1], |mean on N(0, 1)| < 0.05, f′(5) < 0.01; ReLU — cheapest in most "
              "frameworks, dead units after training > 0 (\"popular\" is not measured); leaky ReLU — f′ on the "
              "negative side > 0, so no unit has a zero gradient; ELU — smaller derivative jump at 0 than ReLU and "
              "cost above ReLU's; softmax — outputs sum to 1 and the layer study's best multiclass output is "
              "softmax. Every part ✔ → ✔, some → ≈.",
        "ru": "Флаги: sigmoid — выход в [0, 1] и затухание (f′(5) < 0.01, градиент первого слоя < 10 % от ReLU); "
              "tanh — в [−1, 1], |среднее на N(0, 1)| < 0.05, f′(5) < 0.01; ReLU — самая дешёвая в большинстве "
              "фреймворков, мёртвые нейроны после обучения > 0 («популярная» не измеряется); leaky ReLU — f′ слева "
              "> 0, поэтому ни у одного нейрона градиент не нулевой; ELU — скачок производной в 0 меньше, чем у "
              "ReLU, и стоимость выше ReLU; softmax — выходы в сумме 1, и лучший многоклассовый выход в "
              "исследовании слоёв — softmax. Все части ✔ → ✔, некоторые → ≈."},
    "lay_grid": {
        "en": "Grid (`study:layers:grid`, on {targets} from the same initial weights and batches): {arch}; the metric is computed by frameworkbench on the validation split: "
              "accuracy for classification (threshold 0.5 / argmax, so it is defined for every output activation), "
              "MSE for regression (standardised target: 1.0 = predicting the mean). Mismatched pairs are those the "
              "spec validator accepts (cross-entropy needs sigmoid/softmax).",
        "ru": "Сетка (`study:layers:grid`, на {targets} с одинаковыми начальными весами и батчами): {arch}; метрику считает frameworkbench на валидационной выборке: точность (доля верных ответов) для "
              "классификации (порог 0.5 / argmax, поэтому она определена для любой выходной активации), MSE для "
              "регрессии (стандартизованная цель: 1.0 = предсказание среднего). Несогласованные пары — те, что "
              "принимает валидатор спецификаций (кросс-энтропии нужен sigmoid/softmax)."},
    "lay_rank": {
        "en": "Ranking: in every (dataset, target) cell the candidates are ranked by their median over seeds (ties "
              "share the rank); the mean rank orders them; the figure after the rank is the median of the cells' medians. Output rows: ReLU hidden layers, every output × loss "
              "pair. Hidden row: every hidden activation with the task's matched output, all tasks pooled. Margin: "
              "the winner against the best pair with a different output activation, per dataset (accuracy in "
              "percentage points, MSE in its units).",
        "ru": "Ранжирование: в каждой ячейке (данные, цель) кандидаты ранжируются по медиане по сидам (равные делят "
              "ранг); порядок — по среднему рангу; число после ранга — медиана медиан ячеек. Строки выходов: скрытые слои ReLU, все пары выход × потери. "
              "Строка скрытых слоёв: каждая скрытая активация с согласованным выходом задачи, все задачи вместе. "
              "Отрыв: победитель против лучшей пары с другой выходной активацией, по каждому набору данных "
              "(точность — в процентных пунктах, п. п., MSE — в его единицах)."},
    "lay_flags": {
        "en": "Flags: output rows ✔ when the best pair's output activation is the document's (regression: linear), "
              "≈ when it ties with another activation; hidden row ✔ when the document's activations all rank above "
              "the others, ≈ when the last is one the document leaves out but another one it leaves out ranks above "
              "one of its own, ✘ when one of the document's ranks last.",
        "ru": "Флаги: строки выходов ✔ — если выходная активация лучшей пары та, что в документе (регрессия: "
              "линейная), ≈ — если ничья с другой активацией; строка скрытых слоёв ✔ — если все активации документа "
              "стоят выше остальных, ≈ — если последняя — не из документа, но другая не из документа обошла одну из "
              "его активаций, ✘ — если последней оказалась активация из документа."},
}
