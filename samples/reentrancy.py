"""A reentrant call chain, A -> B -> A: a teacher quizzes a student, who asks the teacher for a
hint while the teacher's quiz is still running.

    dapr-actors run samples.reentrancy:app --app-id school
    curl -s -X POST http://localhost:3500/v1.0/actors/teacher/t1/method/quiz \
      -H "Content-Type: application/json" -d '{"student": "s1"}'
    # "6 x 7? With the hint 'think of 6 x 7': 42"
    curl -s http://localhost:3500/v1.0/actors/teacher/t1/state/last_answer
    # "6 x 7? With the hint 'think of 6 x 7': 42"

Without ``reentrancy=True`` the hint request would wait for the quiz to end, and the quiz for
the answer: a deadlock. With it, the request carries the chain's ``Dapr-Reentrancy-Id`` back
into the teacher, and it sees the hint the quiz set but has not saved yet: both belong to one
unit of work, saved once when the quiz returns.
"""

from __future__ import annotations

from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorRuntime, method

runtime = ActorRuntime(reentrancy=True, max_stack_depth=8)


@runtime.actor("teacher")
class Teacher(Actor):
    @method
    async def quiz(self, student: str) -> str:
        await self.state.set("hint", "think of 6 x 7")
        answer = await Student.proxy(student).answer(question="6 x 7?", teacher=self.id)
        await self.state.set("last_answer", answer)
        return answer

    @method
    async def hint(self) -> str:
        return await self.state.get("hint", str, default="no hint")


@runtime.actor("student")
class Student(Actor):
    @method
    async def answer(self, question: str, teacher: str) -> str:
        hint = await Teacher.proxy(teacher).hint()  # back into the teacher: A -> B -> A
        return f"{question} With the hint '{hint}': 42"


app = FastAPI(title="Reentrant actors", lifespan=runtime.lifespan)
app.include_router(runtime.router)
